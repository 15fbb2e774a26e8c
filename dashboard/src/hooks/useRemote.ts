import { useEffect, useEffectEvent, useState } from 'react'
import { errorMessage } from '../api'

/** How often the main panels (numbers, chart, reports) ask again while the tab is visible; realtime asks more often. */
export const MAIN_REFRESH_MS = 60_000

/** One API answer as a view sees it. `idle`: there is nothing to ask yet (e.g. no site chosen). */
export type Remote<T> = { status: 'idle' } | { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; data: T }

/** The part of an Eden Treaty answer this hook reads (`data` of a failure is left out of inferring T). */
export type Answer<T> = { data: T; error: null } | { data: unknown; error: { status: unknown; value: unknown } }

/**
 * Loads `load(params)` whenever `params` change (by value) and, given `refreshMs`, again on that
 * period while the tab is visible: a hidden tab asks nothing and catches up as soon as it is shown.
 * A refresh keeps showing the previous answer until the new one arrives, so numbers do not flicker.
 */
export function useRemote<P, T>(
  params: P | null,
  load: (params: P, signal: AbortSignal) => Promise<Answer<T>>,
  refreshMs?: number,
): Remote<T> {
  const key = params === null ? null : JSON.stringify(params)
  const [state, setState] = useState<{ key: string | null; remote: Remote<T> }>({ key: null, remote: { status: 'idle' } })
  // The latest `load` and `params` without making them effect dependencies: `key` says when to reload.
  const fetchAnswer = useEffectEvent((signal: AbortSignal) => load(params as P, signal))

  useEffect(() => {
    if (key === null) return
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    let inFlight = false
    const refresh = async () => {
      if (inFlight) return
      inFlight = true
      clearTimeout(timer)
      let answer: Answer<T>
      try {
        answer = await fetchAnswer(controller.signal)
      } catch (error) {
        // Eden rethrows the fetch's rejection: an abort (the question changed) or no network.
        answer = { data: null, error: { status: 0, value: error } }
      }
      inFlight = false
      if (controller.signal.aborted) return
      setState({ key, remote: answer.error ? { status: 'error', message: errorMessage(answer.error) } : { status: 'ready', data: answer.data } })
      if (refreshMs && !document.hidden) timer = setTimeout(refresh, refreshMs)
    }
    const onVisibilityChange = () => (document.hidden ? clearTimeout(timer) : void refresh())
    void refresh()
    if (refreshMs) document.addEventListener('visibilitychange', onVisibilityChange)
    return () => {
      controller.abort()
      clearTimeout(timer)
      document.removeEventListener('visibilitychange', onVisibilityChange)
    }
  }, [key, refreshMs])

  if (key === null) return { status: 'idle' }
  return state.key === key ? state.remote : { status: 'loading' }
}

/** The latest answer that is not a load in progress: asking again keeps the page as it was meanwhile. */
export function useSettled<T>(remote: Remote<T>): Remote<T> {
  const [settled, setSettled] = useState(remote)
  useEffect(() => {
    if (remote.status !== 'loading') setSettled(remote)
  }, [remote])
  return remote.status === 'loading' && settled.status !== 'idle' ? settled : remote
}
