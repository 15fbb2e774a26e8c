import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useRemote } from './useRemote'

export type Ledger = Treaty.Data<typeof api.ingest.ledger.get>

export const HEALTH_REFRESH_MS = 30_000

/** The window of refusals the health panel shows: a refusal long ago is no alarm today. */
export const RECENT_HOURS = 24

/** A site's ingestion counts since it began (accepted, refused by reason, written, duplicates) and its refusals of the last 24 hours. */
export function useLedger(siteId: string | null) {
  return useRemote(
    siteId === null ? null : { siteId },
    (params, signal) => api.ingest.ledger.get({ query: { site_id: params.siteId, recent_hours: RECENT_HOURS }, fetch: { signal } }),
    HEALTH_REFRESH_MS,
  )
}
