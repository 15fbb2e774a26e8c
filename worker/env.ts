import { readDatabaseUrl, readInteger, readQueueName, readRedisUrl, type EnvSource } from '../lib/config'

export interface WorkerEnv {
  databaseUrl: string
  redisUrl: string
  queueName: string
  concurrency: number
}

export function loadWorkerEnv(env: EnvSource = process.env): WorkerEnv {
  return {
    databaseUrl: readDatabaseUrl(env),
    redisUrl: readRedisUrl(env),
    queueName: readQueueName(env),
    concurrency: readInteger(env, 'WORKER_CONCURRENCY', 5, 1, 256),
  }
}
