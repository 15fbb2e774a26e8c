import { readRedisUrl, readString, type EnvSource } from '../lib/config'

export interface TestEnv {
  /** Superuser connection used to create and drop one database per test file. */
  adminDatabaseUrl: string
  redisUrl: string
}

export function loadTestEnv(env: EnvSource = process.env): TestEnv {
  return {
    adminDatabaseUrl: readString(env, 'POSTGRES_ADMIN_URL', 'postgres://postgres@127.0.0.1:5432/postgres'),
    redisUrl: readRedisUrl(env),
  }
}
