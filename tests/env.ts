import { readRedis, readString, type EnvSource, type RedisTarget } from '../lib/config'

export interface TestEnv {
  /** Superuser connection used to create and drop one database per test file. */
  adminDatabaseUrl: string
  /** REDIS_URL, or a cluster's seed nodes (REDIS_CLUSTER_NODES) with REDIS_URL's credentials. */
  redis: RedisTarget
}

export function loadTestEnv(env: EnvSource = process.env): TestEnv {
  return {
    adminDatabaseUrl: readString(env, 'POSTGRES_ADMIN_URL', 'postgres://postgres@127.0.0.1:5432/postgres'),
    redis: readRedis(env),
  }
}
