import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useRemote } from './useRemote'

export type Ledger = Treaty.Data<typeof api.ingest.ledger.get>

export const HEALTH_REFRESH_MS = 30_000

/** A site's ingestion counts since it began: accepted, refused (by reason), written, duplicates. */
export function useLedger(siteId: string | null) {
  return useRemote(
    siteId === null ? null : { siteId },
    (params, signal) => api.ingest.ledger.get({ query: { site_id: params.siteId }, fetch: { signal } }),
    HEALTH_REFRESH_MS,
  )
}
