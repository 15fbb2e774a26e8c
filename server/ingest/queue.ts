import type IORedis from 'ioredis'
import { errorFields, type Logger } from '../../lib/log'
import { INGEST_JOB, type IngestQueue, type QueuedEvent } from '../../worker/queues'
import { ServiceUnavailableError } from '../errors'
import type { ApiMetrics } from '../metrics'
import { BufferFullError, createGroupCommit, type GroupCommitStats } from '../../lib/group-commit'

/** The event could not be queued; the client should retry after `retryAfterSeconds`. */
export class IngestUnavailableError extends ServiceUnavailableError {
  override name = 'IngestUnavailableError'
}

export interface IngestLimits {
  /** Most events in one job; a request's events are never split across jobs. */
  maxBatchEvents: number
  /** Most events held in the API (waiting for Redis or in flight) before new ones get 503. */
  maxPendingEvents: number
  /** Most request bytes held in the API before new ones get 503. */
  maxPendingBytes: number
  /** Estimated events waiting in the queue above which new events get 503. */
  maxBacklogEvents: number
  /** How old the backlog figure may get before it is read from Redis again. */
  backlogRefreshMs: number
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBatchEvents: 2_000,
  maxPendingEvents: 100_000,
  maxPendingBytes: 64 * 1024 * 1024,
  maxBacklogEvents: 1_000_000,
  backlogRefreshMs: 500,
}

export interface Enqueue {
  /** Resolves with the job id once Redis has acknowledged the job carrying these events. */
  (events: QueuedEvent[], bytes: number): Promise<{ jobId: string }>
}

export interface IngestPipeline {
  enqueue: Enqueue
  state(): GroupCommitStats & { backlogJobs: number; backlogEvents: number }
  drain(): Promise<void>
}

/**
 * Enqueueing as the API does it: group commit in front of BullMQ, a fast refusal while Redis is
 * not connected (instead of requests hanging), and backpressure once the queue's backlog passes
 * its limit, so a stalled worker cannot make Redis run out of memory.
 */
export function createIngestPipeline(deps: { queue: IngestQueue; redis: IORedis; limits: IngestLimits; log: Logger; metrics: ApiMetrics }): IngestPipeline {
  const { queue, redis, limits, log, metrics } = deps
  // One enqueue in flight: events arriving meanwhile make the next job (DESIGN §3).
  const groupLimits = { maxBatchItems: limits.maxBatchEvents, maxPendingItems: limits.maxPendingEvents, maxPendingBytes: limits.maxPendingBytes, maxInFlight: 1 }
  const groupCommit = createGroupCommit<QueuedEvent, string>(async (events) => {
    const started = performance.now()
    const job = await queue.add(INGEST_JOB, { events })
    metrics.enqueueSeconds.observe((performance.now() - started) / 1000)
    metrics.batchEvents.observe(events.length)
    return job.id!
  }, groupLimits)

  // The backlog is counted in jobs by Redis; jobs hold batches, so it is converted to events with
  // the average batch size this process has sent. Below the limit it is refreshed off the request
  // path; above it, a stale figure is read again before refusing, so recovery is immediate.
  let backlogJobs = 0
  let refreshedAt = 0
  let refreshing: Promise<void> | undefined
  const averageBatch = () => {
    const { batchesSent, itemsSent } = groupCommit.stats()
    return batchesSent === 0 ? 1 : itemsSent / batchesSent
  }
  const backlogEvents = () => Math.round(backlogJobs * averageBatch())
  const stale = () => Date.now() - refreshedAt >= limits.backlogRefreshMs
  function refreshBacklog(): Promise<void> {
    refreshing ??= queue
      .getJobCounts('waiting', 'delayed', 'prioritized')
      .then((counts) => {
        backlogJobs = Object.values(counts).reduce((sum, n) => sum + n, 0)
      })
      .catch((error) => log.warn('backlog check failed', errorFields(error)))
      .finally(() => {
        refreshedAt = Date.now()
        refreshing = undefined
      })
    return refreshing
  }
  async function overBacklog(): Promise<boolean> {
    if (backlogEvents() <= limits.maxBacklogEvents) {
      if (stale()) void refreshBacklog()
      return false
    }
    if (stale()) await refreshBacklog()
    return backlogEvents() > limits.maxBacklogEvents
  }

  return {
    async enqueue(events, bytes) {
      if (redis.status !== 'ready') {
        throw new IngestUnavailableError('Event queue is unavailable (Redis is not connected); retry later', 5)
      }
      if (await overBacklog()) {
        throw new IngestUnavailableError('Event queue backlog is over its limit; retry later', 10)
      }
      try {
        return { jobId: await groupCommit.add(events, bytes) }
      } catch (error) {
        if (error instanceof BufferFullError) throw new IngestUnavailableError('Ingest buffer is full; retry later', 1)
        log.error('enqueue failed', { events: events.length, ...errorFields(error) })
        throw new IngestUnavailableError('Event queue is unavailable; retry later', 5, { cause: error })
      }
    },
    state: () => ({ ...groupCommit.stats(), backlogJobs, backlogEvents: backlogEvents() }),
    drain: () => groupCommit.drain(),
  }
}
