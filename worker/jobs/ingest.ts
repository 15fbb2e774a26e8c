import { UnrecoverableError, type Job } from 'bullmq'
import type { Db } from '../../drizzle/client'
import { createGroupCommit } from '../../lib/group-commit'
import { errorFields, type Logger } from '../../lib/log'
import { isDatabaseUnavailable } from '../../lib/pg-errors'
import { INGEST_JOB, type IngestJobData, type QueuedEvent } from '../../lib/queue'
import type { WorkerMetrics } from '../metrics'
import { writeEventBatch, type BatchWriteResult } from '../rollups/postgres'

export interface WriterOptions {
  /** Transactions under way at once: one per partition of the sites. */
  transactions: number
  /** Most events in one transaction. */
  maxBatchEvents: number
}

/** FNV-1a: a stable, cheap spread of site ids over the writers. */
export function partitionOf(siteId: string, partitions: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < siteId.length; i++) hash = Math.imul(hash ^ siteId.charCodeAt(i), 0x01000193)
  return (hash >>> 0) % partitions
}

/**
 * Handles ingest jobs. They do not write alone: the events of every job the worker holds go
 * through a group commit, so the jobs that arrive while a transaction runs share the next one.
 * Under load, many small jobs (one per API enqueue) then cost one transaction and one pass over
 * the hot rollup rows.
 *
 * Sites are split over the writers by a hash of their id, each writer running one transaction
 * at a time: concurrent transactions never touch the same site's rows, so they never wait on
 * each other's locks. A job completes only once every part of it has committed; if a part fails
 * the job is retried whole, and the parts already written are skipped as duplicates.
 */
export interface IngestHandlerDeps {
  db: Db
  log: Logger
  metrics: WorkerMetrics
  writer: WriterOptions
  /** Told each job's size as it starts (the worker sizes how many jobs it holds from them). */
  onJob?: (events: number) => void
}

export function createIngestHandler(deps: IngestHandlerDeps) {
  const { db, log, metrics } = deps
  const write = async (events: QueuedEvent[]): Promise<BatchWriteResult> => {
    const started = performance.now()
    const result = await writeEventBatch(db, events)
    const committed = Date.now()
    metrics.writeSeconds.observe((performance.now() - started) / 1000)
    metrics.written.inc(result.inserted)
    metrics.duplicates.inc(result.duplicates)
    for (const event of events) metrics.lagSeconds.observe((committed - Date.parse(event.receivedAt)) / 1000)
    log.info('batch inserted', { events: events.length, ...result, ms: Math.round(performance.now() - started) })
    return result
  }
  const writers = Array.from({ length: deps.writer.transactions }, () =>
    createGroupCommit<QueuedEvent, BatchWriteResult>(write, {
      maxBatchItems: deps.writer.maxBatchEvents,
      // Bounded by the jobs BullMQ hands this worker at once (WORKER_PREFETCH, WORKER_PREFETCH_EVENTS).
      maxPendingItems: Number.POSITIVE_INFINITY,
      maxPendingBytes: Number.POSITIVE_INFINITY,
      maxInFlight: 1,
    }),
  )

  async function ingest(job: Job<IngestJobData>): Promise<void> {
    const events = job.data.events
    log.info('processing batch', { jobId: job.id, events: events.length, attempt: job.attemptsMade + 1 })
    try {
      const parts = Map.groupBy(events, (event) => partitionOf(event.siteId, writers.length))
      await Promise.all([...parts].map(([partition, part]) => writers[partition]!.add(part, 0)))
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error
      // A statement failed for a reason other than an outage: write this job alone, so that
      // one bad job fails (and is retried) by itself instead of with every job it was with.
      log.warn('shared transaction failed; writing the job alone', { jobId: job.id, ...errorFields(error) })
      await write(events)
    }
  }

  return async (job: Job<IngestJobData>): Promise<void> => {
    try {
      // The shape only, not each event: the API validated them, and Postgres refuses a bad field.
      if (!Array.isArray(job.data?.events)) throw new UnrecoverableError('ingest job data has no events list')
      deps.onJob?.(job.data.events.length)
      await ingest(job)
      metrics.jobs.inc({ kind: INGEST_JOB, outcome: 'completed' })
    } catch (error) {
      metrics.jobs.inc({ kind: INGEST_JOB, outcome: 'failed' })
      throw error
    }
  }
}
