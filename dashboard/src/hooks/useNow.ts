import { useEffect, useState } from 'react'

/**
 * The time, taken again every `periodMs` while the tab is visible (and as soon as it is shown
 * again), so what depends on it (today's date, the hour a partial day is compared up to, the
 * chart's last point) moves on while the page stays open.
 */
export function useNow(periodMs: number): Date {
  const [now, setNow] = useState(() => new Date())
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const tick = () => {
      setNow(new Date())
      clearTimeout(timer)
      if (!document.hidden) timer = setTimeout(tick, periodMs)
    }
    const onVisibilityChange = () => (document.hidden ? clearTimeout(timer) : tick())
    if (!document.hidden) timer = setTimeout(tick, periodMs)
    document.addEventListener('visibilitychange', onVisibilityChange)
    return () => {
      clearTimeout(timer)
      document.removeEventListener('visibilitychange', onVisibilityChange)
    }
  }, [periodMs])
  return now
}
