import { resolve } from 'node:path'
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest/queue'
import { LOGIN_GUESSES } from './access'
import type { ProxyTrust } from './client-address'
import type { RateLimit } from './rate-limit'
import type { IngestRateLimits } from './ingest/routes'
import {
  readBoolean,
  readDatabaseUrl,
  readInteger,
  readOptionalPostgresUrl,
  readOptionalString,
  readQueueName,
  readRedis,
  readString,
  ConfigError,
  type EnvSource,
  type RedisTarget,
} from '../lib/config'

export interface ServerEnv {
  /** Address the API listens on: loopback unless told otherwise (the container sets 0.0.0.0). */
  host: string
  /** NODE_ENV, which Bun and Elysia read themselves; logged so an operator sees the mode. */
  mode: string
  port: number
  /** Several API processes may listen on the one port, the kernel sharing connections among them (API_REUSE_PORT). */
  reusePort: boolean
  databaseUrl: string
  /** STATS_DATABASE_URL: a read replica for stats, site lists, goal and funnel lists and exports; unset: the primary. */
  statsDatabaseUrl: string | undefined
  /** REDIS_URL, or a cluster's seed nodes (REDIS_CLUSTER_NODES) with REDIS_URL's credentials. */
  redis: RedisTarget
  queueName: string
  adminUser: string
  /** ADMIN_PASSWORD; unset: the one kept in adminPasswordFile (see admin-password.ts). */
  adminPassword: string | undefined
  adminPasswordFile: string
  statsApiKey: string | undefined
  /** Readers on the loopback interface need no key while none is set (STATS_LOOPBACK_OPEN). */
  loopbackReads: boolean
  proxy: ProxyTrust
  loginGuesses: RateLimit
  dashboardDir: string
  ingestLimits: IngestLimits
  rateLimits: IngestRateLimits
  countryHeader: string | null
}

const root = resolve(import.meta.dir, '..')

const rate = (perSecond: number) => ({ rate: perSecond, burst: perSecond * 2 })
const perMinute = (perMinute: number) => ({ rate: perMinute / 60, burst: perMinute * 2 })
const loginGuesses = (burst: number): RateLimit => (burst === 0 ? { rate: 0, burst: 0 } : { ...LOGIN_GUESSES, burst })

/** An HTTP header name (a token, RFC 9110), lower case, or null when unset. */
function readHeaderName(env: EnvSource, name: string): string | null {
  const value = readOptionalString(env, name)
  if (value === undefined) return null
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw new ConfigError(`${name} must be an HTTP header name such as CF-IPCountry, got "${value}"`)
  return value.toLowerCase()
}

export function loadServerEnv(env: EnvSource = process.env): ServerEnv {
  return {
    host: readString(env, 'API_HOST', '127.0.0.1'),
    mode: readString(env, 'NODE_ENV', 'development'),
    port: readInteger(env, 'API_PORT', 4000, 0, 65535),
    reusePort: readBoolean(env, 'API_REUSE_PORT', false),
    databaseUrl: readDatabaseUrl(env),
    statsDatabaseUrl: readOptionalPostgresUrl(env, 'STATS_DATABASE_URL'),
    redis: readRedis(env),
    queueName: readQueueName(env),
    adminUser: readString(env, 'ADMIN_USER', 'admin'),
    adminPassword: readOptionalString(env, 'ADMIN_PASSWORD'),
    // A relative path is taken from the project root, wherever the API was started from.
    adminPasswordFile: resolve(root, readString(env, 'ADMIN_PASSWORD_FILE', '.data/admin-password')),
    statsApiKey: readOptionalString(env, 'STATS_API_KEY'),
    // A header the proxy or CDN in front sets to the visitor's country code, e.g. CF-IPCountry.
    countryHeader: readHeaderName(env, 'COUNTRY_HEADER'),
    loopbackReads: readBoolean(env, 'STATS_LOOPBACK_OPEN', true),
    // Failed sign-ins per address before it is slowed to one every 30 s; 0 turns the budget off.
    loginGuesses: loginGuesses(readInteger(env, 'RATE_LIMIT_LOGIN', LOGIN_GUESSES.burst, 0, 1_000_000)),
    proxy: { trustProxy: readBoolean(env, 'TRUST_PROXY', false), hops: readInteger(env, 'TRUSTED_PROXY_HOPS', 1, 1, 10) },
    dashboardDir: resolve(root, 'dashboard/dist'),
    // Events per second with bursts of twice that; 0 turns a limit off (as the benchmarks do).
    rateLimits: {
      perIp: rate(readInteger(env, 'RATE_LIMIT_PER_IP', 1_000, 0, 10_000_000)),
      perSite: rate(readInteger(env, 'RATE_LIMIT_PER_SITE', 20_000, 0, 10_000_000)),
      // Milliseconds of CPU per minute an address may cost with refused bodies (bursts of twice that).
      invalidCpuMs: perMinute(readInteger(env, 'RATE_LIMIT_INVALID_CPU_MS', 1_000, 0, 60_000)),
    },
    ingestLimits: {
      ...DEFAULT_INGEST_LIMITS,
      maxBacklogEvents: readInteger(env, 'INGEST_MAX_BACKLOG_EVENTS', DEFAULT_INGEST_LIMITS.maxBacklogEvents, 1, 1_000_000_000),
      paceBacklogEvents: readInteger(env, 'INGEST_PACE_BACKLOG_EVENTS', DEFAULT_INGEST_LIMITS.paceBacklogEvents, 0, 1_000_000_000),
      maxPendingEvents: readInteger(env, 'INGEST_MAX_PENDING_EVENTS', DEFAULT_INGEST_LIMITS.maxPendingEvents, 1_000, 10_000_000),
    },
  }
}
