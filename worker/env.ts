import { availableParallelism } from 'node:os'
import { readDatabaseUrl, readInteger, readOptionalInteger, readQueueName, readRedis, type EnvSource, type RedisTarget } from '../lib/config'
import type { Prefetch } from './worker'

export interface WorkerEnv {
  databaseUrl: string
  /** REDIS_URL, or a cluster's seed nodes (REDIS_CLUSTER_NODES) with REDIS_URL's credentials. */
  redis: RedisTarget
  queueName: string
  /** Postgres transactions under way at once (WORKER_CONCURRENCY). */
  concurrency: number
  /** Jobs held at once (and about how many events they may carry), combined into those transactions. */
  prefetch: Prefetch
  /** Most events in one transaction. */
  batchEvents: number
  /** Port of the worker's /metrics; 0 for none. */
  metricsPort: number
  /** RAW_RETENTION_DAYS: whole UTC months of raw events older than this are dropped; unset keeps everything. */
  rawRetentionDays: number | undefined
}

/**
 * Default transactions under way at once: the machine's cores, at most 5 (the original default).
 * Postgres runs beside the worker in the default deployment, and more transactions than cores only
 * take turns on the CPU with smaller batches: on 2 cores, 5 writers persisted fewer events and
 * committed them later than 2 did (bench/RESULTS.md).
 */
const defaultConcurrency = (cores: number) => Math.max(1, Math.min(5, cores))

export function loadWorkerEnv(env: EnvSource = process.env, cores: number = availableParallelism()): WorkerEnv {
  return {
    databaseUrl: readDatabaseUrl(env),
    redis: readRedis(env),
    queueName: readQueueName(env),
    concurrency: readInteger(env, 'WORKER_CONCURRENCY', defaultConcurrency(cores), 1, 256),
    prefetch: {
      jobs: readInteger(env, 'WORKER_PREFETCH', 200, 1, 10_000),
      events: readInteger(env, 'WORKER_PREFETCH_EVENTS', 40_000, 1, 10_000_000),
    },
    batchEvents: readInteger(env, 'WORKER_BATCH_EVENTS', 5_000, 1, 100_000),
    metricsPort: readInteger(env, 'WORKER_METRICS_PORT', 4001, 0, 65535),
    rawRetentionDays: readOptionalInteger(env, 'RAW_RETENTION_DAYS', 1, 36_500),
  }
}
