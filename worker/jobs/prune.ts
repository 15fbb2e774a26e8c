import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { ingestRefusalHours, minuteUsers, rollupMinutes } from '../../drizzle/schema'
import { MAX_RECENT_HOURS } from '../../lib/ledger'
import { PRUNE_JOB, type MaintenanceQueue } from '../../lib/queue'
import { REALTIME_WINDOW_MS } from '../rollups/deltas'

export const PRUNE_SCHEDULER = 'prune-realtime'
export const PRUNE_EVERY_MS = 60_000

/**
 * Registers the scheduler that adds a prune job every minute. Every worker calls it at start:
 * BullMQ keeps one scheduler per id, so however many workers run, the rows are pruned once a minute.
 */
export function schedulePrune(queue: MaintenanceQueue) {
  return queue.upsertJobScheduler(PRUNE_SCHEDULER, { every: PRUNE_EVERY_MS }, { name: PRUNE_JOB, data: {} })
}

/** Handles prune jobs: drops realtime rows older than the window, and refusal hours no ledger question reaches; cheap. */
export function createPruneHandler(deps: { db: Db }) {
  return async (): Promise<void> => {
    const before = new Date(Date.now() - REALTIME_WINDOW_MS).toISOString()
    await deps.db.execute(sql`delete from ${rollupMinutes} where minute < ${before}::timestamptz`)
    await deps.db.execute(sql`delete from ${minuteUsers} where minute < ${before}::timestamptz`)
    await deps.db.execute(sql`delete from ${ingestRefusalHours} where hour < date_trunc('hour', now()) - make_interval(hours => ${MAX_RECENT_HOURS}::int - 1)`)
  }
}
