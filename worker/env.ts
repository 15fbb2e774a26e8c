import { readDatabaseUrl, readInteger, readQueueName, readRedisUrl, type EnvSource } from '../lib/config'

export interface WorkerEnv {
  databaseUrl: string
  redisUrl: string
  queueName: string
  /** Postgres transactions under way at once (WORKER_CONCURRENCY). */
  concurrency: number
  /** Jobs held at once, combined into those transactions. */
  prefetch: number
  /** Most events in one transaction. */
  batchEvents: number
  /** Port of the worker's /metrics; 0 for none. */
  metricsPort: number
}

export function loadWorkerEnv(env: EnvSource = process.env): WorkerEnv {
  return {
    databaseUrl: readDatabaseUrl(env),
    redisUrl: readRedisUrl(env),
    queueName: readQueueName(env),
    concurrency: readInteger(env, 'WORKER_CONCURRENCY', 5, 1, 256),
    prefetch: readInteger(env, 'WORKER_PREFETCH', 200, 1, 10_000),
    batchEvents: readInteger(env, 'WORKER_BATCH_EVENTS', 5_000, 1, 100_000),
    metricsPort: readInteger(env, 'WORKER_METRICS_PORT', 4001, 0, 65535),
  }
}
