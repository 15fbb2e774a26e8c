import { useEffect, useState } from 'react'
import { api } from './api'

type DailyStats = NonNullable<Awaited<ReturnType<typeof api.stats.get>>['data']>

export type StatsState = { status: 'idle' } | { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; stats: DailyStats }

export function useDailyStats(siteId: string, date: string): StatsState {
  const [state, setState] = useState<StatsState>({ status: 'idle' })
  useEffect(() => {
    if (!siteId) return setState({ status: 'idle' })
    let cancelled = false
    setState({ status: 'loading' })
    api.stats.get({ query: { site_id: siteId, date } }).then(({ data, error }) => {
      if (cancelled) return
      if (data) setState({ status: 'ready', stats: data })
      else setState({ status: 'error', message: (error?.value as { error?: string } | undefined)?.error ?? 'Request failed' })
    })
    return () => {
      cancelled = true
    }
  }, [siteId, date])
  return state
}
