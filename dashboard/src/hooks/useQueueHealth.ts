import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { HEALTH_REFRESH_MS } from './useLedger'
import { useRemote } from './useRemote'

export type QueueHealth = Treaty.Data<typeof api.ingest.queue.get>

/** Jobs in the ingestion queue (all sites share it): waiting, active, delayed, failed. */
export function useQueueHealth() {
  return useRemote({}, (_params, signal) => api.ingest.queue.get({ fetch: { signal } }), HEALTH_REFRESH_MS)
}
