/**
 * The queue contract, shared by the API (producer) and the worker (consumer): queue name, job
 * kinds, payload types, job options and Redis connection settings live here and nowhere else.
 * Both sides import this module; neither imports the other (tests/layout.test.ts holds that).
 */
import { Queue, type JobsOptions } from 'bullmq'
import IORedis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { RedisTarget } from './config'

export const DEFAULT_QUEUE_PREFIX = 'bull'

/** One Redis server or a Redis Cluster (REDIS_CLUSTER_NODES): BullMQ and the product's keys work on either. */
export type RedisConnection = IORedis | Cluster

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

/** REDIS_URL's user, password and TLS, which every node of a cluster shares; its host, port and database are the single server's. */
function clusterNodeOptions(url: string): RedisOptions {
  const { username, password, protocol } = new URL(url)
  return {
    ...(username && { username: decodeURIComponent(username) }),
    ...(password && { password: decodeURIComponent(password) }),
    ...(protocol === 'rediss:' && { tls: {} }),
  }
}

/**
 * A connection to `target` with `options`. On a cluster they apply to each node's connection, and
 * the cluster takes the offline queue, lazy connection and reconnection rule as its own: with the
 * offline queue off, commands fail at once while the cluster is not ready, as they do while one
 * server is unreachable.
 */
function connect(target: RedisTarget, options: RedisOptions, clusterOptions: ClusterOptions = {}): RedisConnection {
  if (!target.clusterNodes) return new IORedis(target.url, options)
  return new Cluster(target.clusterNodes, {
    ...clusterOptions,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    lazyConnect: options.lazyConnect ?? false,
    ...(options.retryStrategy !== undefined && { clusterRetryStrategy: options.retryStrategy }),
    redisOptions: { ...clusterNodeOptions(target.url), ...options },
  })
}

/**
 * Producer connection: commands fail fast while Redis is unreachable instead of queueing in
 * memory, so the API can answer 503 rather than hold requests open (BullMQ production guide).
 */
export function createProducerConnection(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  // On a cluster whose master of the queue's slot is down, a command is otherwise tried 16 times
  // 100 ms apart (MOVED to it, then CLUSTERDOWN); 3 still follow a slot that moved.
  return connect(target, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000, ...options }, { maxRedirections: 3 })
}

/** Worker connection: blocking commands must retry forever, as BullMQ requires. */
export function createWorkerConnection(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  return connect(target, { maxRetriesPerRequest: null, connectTimeout: 5_000, ...options })
}

/**
 * The queues' key prefix. BullMQ's scripts touch several keys of a queue at once, which a Redis
 * Cluster allows only within one hash slot, so on a cluster the prefix is a hash tag (`{bull}`):
 * every key of both queues, and the product's own keys under them (`queue.toKey`), hash alike.
 * On one server it stays `bull`: jobs already queued under it would otherwise be left behind.
 */
export function queuePrefix(connection: RedisConnection, prefix = DEFAULT_QUEUE_PREFIX): string {
  return connection.isCluster ? `{${prefix}}` : prefix
}

function queueOptions(connection: RedisConnection, location: QueueLocation, defaultJobOptions: JobsOptions) {
  return {
    connection,
    prefix: queuePrefix(connection, location.prefix),
    defaultJobOptions,
    // BullMQ's event stream keeps the last 10,000 job events (about 0.6 MB here) for QueueEvents
    // listeners; nothing here listens, so keep a short tail for debugging only.
    streams: { events: { maxLen: 100 } },
  }
}

export function createIngestQueue(connection: RedisConnection, location: QueueLocation): IngestQueue {
  return new Queue<JobDataByName[IngestQueueJobName], unknown, IngestQueueJobName>(location.name, queueOptions(connection, location, ingestJobOptions))
}

export const maintenanceQueueLocation = (location: QueueLocation): QueueLocation => ({ ...location, name: `${location.name}-maintenance` })

export function createMaintenanceQueue(connection: RedisConnection, location: QueueLocation): MaintenanceQueue {
  const maintenance = maintenanceQueueLocation(location)
  // The next run is always scheduled; failed runs are kept a while, for inspection.
  return new Queue<PruneJobData, unknown, typeof PRUNE_JOB>(
    maintenance.name,
    queueOptions(connection, maintenance, { removeOnComplete: true, removeOnFail: { count: 100 } }),
  )
}
