import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useRemote } from './useRemote'

export type Realtime = Treaty.Data<typeof api.stats.realtime.get>

export const REALTIME_REFRESH_MS = 10_000

/** The last 30 minutes of a site, asked again every 10 s while the tab is visible. */
export function useRealtime(siteId: string | null) {
  return useRemote(
    siteId === null ? null : { siteId },
    (params, signal) => api.stats.realtime.get({ query: { site_id: params.siteId }, fetch: { signal } }),
    REALTIME_REFRESH_MS,
  )
}
