import { readDatabaseUrl, readRedis, readString, type EnvSource, type RedisTarget } from '../lib/config'

export interface ScriptsEnv {
  databaseUrl: string
  /** REDIS_URL, or a cluster's seed nodes (REDIS_CLUSTER_NODES) with REDIS_URL's credentials. */
  redis: RedisTarget
  /** A superuser connection, used only to create a missing role or database. */
  adminDatabaseUrl: string
  /** The environment the API process starts with: this one, plus production mode and its heap sizing. */
  apiProcessEnv: Record<string, string | undefined>
  /** The environment the worker process starts with: this one, plus production mode. */
  workerProcessEnv: Record<string, string | undefined>
}

/**
 * JavaScriptCore sizes its collection thresholds from the machine's RAM, so on a large host the
 * API let garbage from batch bodies and job payloads grow it to about 240 MB under batch load.
 * Sized as if the machine had 300 MB, it collects sooner: about 175 MB at the same throughput
 * (bench/ingest.ts, batch phase). The worker keeps the default: there it cost throughput. An
 * operator's own BUN_JSC_forceRAMSize wins. docker-compose.yml and package.json say the same.
 */
export const API_HEAP_RAM_BYTES = '300000000'

export function loadScriptsEnv(env: EnvSource = process.env): ScriptsEnv {
  // Outside production, Bun serves an unhandled error as its developer page, with the stack and
  // file paths, and Elysia explains validation failures in detail. An operator's NODE_ENV wins.
  const mode = { NODE_ENV: readString(env, 'NODE_ENV', 'production') }
  return {
    databaseUrl: readDatabaseUrl(env),
    redis: readRedis(env),
    adminDatabaseUrl: readString(env, 'POSTGRES_ADMIN_URL', 'postgres://postgres@127.0.0.1:5432/postgres'),
    apiProcessEnv: { ...env, ...mode, BUN_JSC_forceRAMSize: env.BUN_JSC_forceRAMSize ?? API_HEAP_RAM_BYTES },
    workerProcessEnv: { ...env, ...mode },
  }
}
