import { readDatabaseUrl, readInteger, readQueueName, readRedisUrl, type EnvSource } from '../lib/config'

export interface WorkerEnv {
  databaseUrl: string
  redisUrl: string
  queueName: string
  concurrency: number
  /** Port of the worker's /metrics; 0 for none. */
  metricsPort: number
}

export function loadWorkerEnv(env: EnvSource = process.env): WorkerEnv {
  return {
    databaseUrl: readDatabaseUrl(env),
    redisUrl: readRedisUrl(env),
    queueName: readQueueName(env),
    concurrency: readInteger(env, 'WORKER_CONCURRENCY', 5, 1, 256),
    metricsPort: readInteger(env, 'WORKER_METRICS_PORT', 4001, 0, 65535),
  }
}
