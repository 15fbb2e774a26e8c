import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { ingestRefusalHours, minuteUsers, rollupMinutes } from '../../drizzle/schema'
import { MAX_RECENT_HOURS } from '../../lib/ledger'
import { PRUNE_JOB, type MaintenanceQueue } from '../../lib/queue'
import type { Logger } from '../../lib/log'
import { REALTIME_WINDOW_MS } from '../rollups/deltas'
import { dropExpiredEvents, ensureEventPartitions } from './partitions'

export const PRUNE_SCHEDULER = 'prune-realtime'
export const PRUNE_EVERY_MS = 60_000

/**
 * Registers the scheduler that adds a prune job every minute. Every worker calls it at start:
 * BullMQ keeps one scheduler per id, so however many workers run, the rows are pruned once a minute.
 */
export function schedulePrune(queue: MaintenanceQueue) {
  return queue.upsertJobScheduler(PRUNE_SCHEDULER, { every: PRUNE_EVERY_MS }, { name: PRUNE_JOB, data: {} })
}

export interface PruneDeps {
  db: Db
  log: Logger
  /** RAW_RETENTION_DAYS: raw events of whole UTC months older than this are dropped; undefined keeps them all. */
  rawRetentionDays?: number
}

/**
 * Handles prune jobs: drops realtime rows older than the window, and refusal hours no ledger
 * question reaches; creates the coming months' event partitions and drops those past retention.
 * Cheap when there is nothing to do (a look at the catalog).
 */
export function createPruneHandler(deps: PruneDeps) {
  return async (): Promise<void> => {
    const created = await ensureEventPartitions(deps.db)
    if (created.length > 0) deps.log.info('event partitions created', { months: created })
    if (deps.rawRetentionDays !== undefined) {
      const { months, defaultRows, droppedBefore } = await dropExpiredEvents(deps.db, deps.rawRetentionDays)
      if (months.length > 0 || defaultRows > 0) deps.log.info('raw events dropped', { months, defaultRows, droppedBefore: droppedBefore.toISOString() })
    }
    const before = new Date(Date.now() - REALTIME_WINDOW_MS).toISOString()
    await deps.db.execute(sql`delete from ${rollupMinutes} where minute < ${before}::timestamptz`)
    await deps.db.execute(sql`delete from ${minuteUsers} where minute < ${before}::timestamptz`)
    await deps.db.execute(sql`delete from ${ingestRefusalHours} where hour < date_trunc('hour', now()) - make_interval(hours => ${MAX_RECENT_HOURS}::int - 1)`)
  }
}
