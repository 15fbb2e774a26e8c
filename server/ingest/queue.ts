import { errorFields, type Logger } from '../../lib/log'
import { INGEST_JOB, type IngestQueue, type QueuedEvent, type RedisConnection } from '../../lib/queue'
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
  /**
   * Estimated events waiting in the queue above which requests are held back (paced) before they
   * are queued, for at most `paceMaxWaitMs` each: clients that wait for their answer are slowed to
   * what the workers drain instead of being refused. At or above maxBacklogEvents: no pacing.
   */
  paceBacklogEvents: number
  paceMaxWaitMs: number
  /** How old the backlog figure may get before it is read from Redis again. */
  backlogRefreshMs: number
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBatchEvents: 2_000,
  maxPendingEvents: 100_000,
  maxPendingBytes: 64 * 1024 * 1024,
  maxBacklogEvents: 1_000_000,
  paceBacklogEvents: 250_000,
  paceMaxWaitMs: 10_000,
  backlogRefreshMs: 500,
}

export interface Enqueue {
  /** Resolves with the job id once Redis has acknowledged the job carrying these events. */
  (events: QueuedEvent[], bytes: number): Promise<{ jobId: string }>
}

export interface IngestPipeline {
  enqueue: Enqueue
  state(): GroupCommitStats & { backlogJobs: number; backlogEvents: number; pacedEvents: number }
  drain(): Promise<void>
}

/**
 * Enqueueing as the API does it: group commit in front of BullMQ, a fast refusal while Redis is
 * not connected (instead of requests hanging), and backpressure in two steps: past the pacing
 * level requests wait for the backlog to shrink (a slower answer, not an error), and past the
 * limit they are refused, so a stalled worker cannot make Redis run out of memory.
 */
export function createIngestPipeline(deps: { queue: IngestQueue; redis: RedisConnection; limits: IngestLimits; log: Logger; metrics: ApiMetrics }): IngestPipeline {
  const { queue, redis, limits, log, metrics } = deps
  // One enqueue in flight: events arriving meanwhile make the next job (DESIGN §3).
  const groupLimits = {
    maxBatchItems: limits.maxBatchEvents,
    maxPendingItems: limits.maxPendingEvents,
    maxPendingBytes: limits.maxPendingBytes,
    maxInFlight: 1,
  }
  const groupCommit = createGroupCommit<QueuedEvent, string>(async (events) => {
    const started = performance.now()
    const job = await queue.add(INGEST_JOB, { events })
    metrics.enqueueSeconds.observe((performance.now() - started) / 1000)
    metrics.batchEvents.observe(events.length)
    return job.id!
  }, groupLimits)

  // The backlog is counted in jobs by Redis; jobs hold batches, so it is converted to events with
  // the average batch size this process has sent. The figure is read again once it is older than
  // backlogRefreshMs, by one request for all those arriving meanwhile.
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
  async function currentBacklog(): Promise<number> {
    if (stale()) await refreshBacklog()
    return backlogEvents()
  }

  // Events of requests being held back; they count against the API's buffer limit.
  let pacedEvents = 0
  const paceStepMs = Math.max(limits.backlogRefreshMs, 50)
  const pacing = (backlog: number) => backlog > limits.paceBacklogEvents && backlog <= limits.maxBacklogEvents
  /**
   * The backlog a request meets: between the pacing level and the limit, it first waits (at most
   * paceMaxWaitMs) for the backlog to leave that band; over the limit it is answered at once.
   */
  async function backlogAfterPacing(events: number): Promise<number> {
    let backlog = await currentBacklog()
    if (!pacing(backlog)) return backlog
    if (pacedEvents + groupCommit.stats().pendingItems + events > limits.maxPendingEvents) {
      throw new IngestUnavailableError('Ingest buffer is full; retry later', 1)
    }
    pacedEvents += events
    try {
      for (const deadline = Date.now() + limits.paceMaxWaitMs; pacing(backlog) && Date.now() < deadline;) {
        await Bun.sleep(paceStepMs)
        backlog = await currentBacklog()
      }
      return backlog
    } finally {
      pacedEvents -= events
    }
  }

  return {
    async enqueue(events, bytes) {
      if (redis.status !== 'ready') {
        throw new IngestUnavailableError('Event queue is unavailable (Redis is not connected); retry later', 5)
      }
      if ((await backlogAfterPacing(events.length)) > limits.maxBacklogEvents) {
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
    state: () => ({ ...groupCommit.stats(), backlogJobs, backlogEvents: backlogEvents(), pacedEvents }),
    drain: () => groupCommit.drain(),
  }
}
