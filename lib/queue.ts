/**
 * The queue contract, shared by the API (producer) and the worker (consumer): queue name, job
 * kinds, payload types, job options and Redis connection settings live here and nowhere else.
 * Both sides import this module; neither imports the other (tests/layout.test.ts holds that).
 */
import { Queue, type JobsOptions } from 'bullmq'
import IORedis, { type RedisOptions } from 'ioredis'

export const DEFAULT_QUEUE_PREFIX = 'bull'

/** Job kinds. An ingest job carries a batch of events, so one Redis round trip serves many. */
export const INGEST_JOB = 'ingest-batch'
/** Recomputes a site's rollups from raw events (after a timezone change, or on demand). */
export const REBUILD_JOB = 'rebuild-rollups'
/** Drops realtime rows that have left the realtime window; a job scheduler adds one a minute. */
export const PRUNE_JOB = 'prune-realtime'

/** An event as it travels through Redis: validated, normalised, with its idempotency key. */
export interface QueuedEvent {
  eventId: string
  siteId: string
  eventType: string
  path: string
  userId: string | null
  /** ISO 8601, UTC. */
  timestamp: string
  /** ISO 8601, UTC: when the API received the request. */
  receivedAt: string
  /*
   * The visit properties the API resolved (null: not set). Optional because jobs queued by an
   * API from before they existed may still be waiting: such events are Direct, all else unset.
   */
  /** The referring URL without its query string and fragment. */
  referrer?: string | null
  source?: string
  channel?: string
  utmSource?: string | null
  utmMedium?: string | null
  utmCampaign?: string | null
  utmContent?: string | null
  utmTerm?: string | null
  browser?: string | null
  os?: string | null
  device?: string | null
  /** ISO 3166-1 alpha-2, upper case. */
  country?: string | null
  /** Custom properties, each value as text (numbers and booleans as their JSON text); absent when none. */
  props?: Record<string, string>
}

export interface IngestJobData {
  events: QueuedEvent[]
}

export interface RebuildJobData {
  siteId: string
  /** Inclusive dates in the site's rollup timezone; all time when absent. */
  range?: { from: string; to: string }
}

/** Carries nothing: the job prunes what is older than the window when it runs. */
export type PruneJobData = Record<string, never>

/** Every job kind with the data it carries. */
export interface JobDataByName {
  [INGEST_JOB]: IngestJobData
  [REBUILD_JOB]: RebuildJobData
  [PRUNE_JOB]: PruneJobData
}
export type JobName = keyof JobDataByName
/** The kinds the API adds to the ingest queue. */
export type IngestQueueJobName = typeof INGEST_JOB | typeof REBUILD_JOB

export const ingestJobOptions: JobsOptions = {
  // Exponential backoff from 1 s over 12 attempts rides out a Postgres outage of about an hour;
  // after that the job stays in the failed set, visible and retryable in Bull Board.
  attempts: 12,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { count: 10_000 },
}

/** A rebuild is kept a day after it completes, so whoever changed the zone can see it did. */
export const rebuildJobOptions: JobsOptions = { ...ingestJobOptions, removeOnComplete: { age: 24 * 3600, count: 1_000 } }

export type IngestQueue = Queue<JobDataByName[IngestQueueJobName], unknown, IngestQueueJobName>
/**
 * Scheduled upkeep (PRUNE_JOB) has a queue of its own beside the ingest queue: a job scheduler
 * always keeps its next job delayed, which would make the ingest queue's counts (backlog, Bull
 * Board, /ingest/queue) never read empty.
 */
export type MaintenanceQueue = Queue<PruneJobData, unknown, typeof PRUNE_JOB>

export interface QueueLocation {
  name: string
  prefix?: string
}

/**
 * Producer connection: commands fail fast while Redis is unreachable instead of queueing in
 * memory, so the API can answer 503 rather than hold requests open (BullMQ production guide).
 */
export function createProducerConnection(url: string, options: RedisOptions = {}): IORedis {
  return new IORedis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000, ...options })
}

/** Worker connection: blocking commands must retry forever, as BullMQ requires. */
export function createWorkerConnection(url: string, options: RedisOptions = {}): IORedis {
  return new IORedis(url, { maxRetriesPerRequest: null, connectTimeout: 5_000, ...options })
}

function queueOptions(connection: IORedis, location: QueueLocation, defaultJobOptions: JobsOptions) {
  return {
    connection,
    prefix: location.prefix ?? DEFAULT_QUEUE_PREFIX,
    defaultJobOptions,
    // BullMQ's event stream keeps the last 10,000 job events (about 0.6 MB here) for QueueEvents
    // listeners; nothing here listens, so keep a short tail for debugging only.
    streams: { events: { maxLen: 100 } },
  }
}

export function createIngestQueue(connection: IORedis, location: QueueLocation): IngestQueue {
  return new Queue<JobDataByName[IngestQueueJobName], unknown, IngestQueueJobName>(location.name, queueOptions(connection, location, ingestJobOptions))
}

export const maintenanceQueueLocation = (location: QueueLocation): QueueLocation => ({ ...location, name: `${location.name}-maintenance` })

export function createMaintenanceQueue(connection: IORedis, location: QueueLocation): MaintenanceQueue {
  const maintenance = maintenanceQueueLocation(location)
  // The next run is always scheduled; failed runs are kept a while, for inspection.
  return new Queue<PruneJobData, unknown, typeof PRUNE_JOB>(
    maintenance.name,
    queueOptions(connection, maintenance, { removeOnComplete: true, removeOnFail: { count: 100 } }),
  )
}
