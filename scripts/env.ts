import { readDatabaseUrl, readRedisUrl, readString, type EnvSource } from '../lib/config'

export interface ScriptsEnv {
  databaseUrl: string
  redisUrl: string
  /** A superuser connection, used only to create a missing role or database. */
  adminDatabaseUrl: string
}

export function loadScriptsEnv(env: EnvSource = process.env): ScriptsEnv {
  return {
    databaseUrl: readDatabaseUrl(env),
    redisUrl: readRedisUrl(env),
    adminDatabaseUrl: readString(env, 'POSTGRES_ADMIN_URL', 'postgres://postgres@127.0.0.1:5432/postgres'),
  }
}
