/**
 * Parsing helpers shared by every process's env.ts. They take the environment as an argument
 * (never read process.env themselves) and throw a ConfigError that names the variable.
 *
 * Kept by hand: about seventy lines with the exact messages the README documents; env-schema
 * libraries (envalid, zod) would add a dependency for the same checks and word them their way.
 */
export type EnvSource = Record<string, string | undefined>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function readString(env: EnvSource, name: string, fallback: string): string {
  const value = env[name]?.trim()
  return value ? value : fallback
}

export function readOptionalString(env: EnvSource, name: string): string | undefined {
  const value = env[name]?.trim()
  return value ? value : undefined
}

export function readBoolean(env: EnvSource, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (!raw) return fallback
  if (raw === 'true') return true
  if (raw === 'false') return false
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`)
}

export function readInteger(env: EnvSource, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

/** A whole number in [min, max], or undefined when the variable is unset or empty. */
export function readOptionalInteger(env: EnvSource, name: string, min: number, max: number): number | undefined {
  return env[name]?.trim() ? readInteger(env, name, min, min, max) : undefined
}

function readUrl(env: EnvSource, name: string, protocols: string[]): string | undefined {
  const raw = readOptionalString(env, name)
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${redactUrl(raw)}"`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${redactUrl(raw)}"`)
  }
  return raw
}

/** A postgres:// (or postgresql://) URL in `name`, or undefined when unset. */
export function readOptionalPostgresUrl(env: EnvSource, name: string): string | undefined {
  return readUrl(env, name, ['postgres:', 'postgresql:'])
}

/** DATABASE_URL wins; otherwise the URL is assembled from the POSTGRES_* variables. */
export function readDatabaseUrl(env: EnvSource): string {
  const explicit = readOptionalPostgresUrl(env, 'DATABASE_URL')
  if (explicit) return explicit
  const user = encodeURIComponent(readString(env, 'POSTGRES_USER', 'analytics_user'))
  const password = encodeURIComponent(readString(env, 'POSTGRES_PASSWORD', 'analytics_pass'))
  const host = readString(env, 'POSTGRES_HOST', '127.0.0.1')
  const port = readInteger(env, 'POSTGRES_PORT', 5432, 1, 65535)
  const db = encodeURIComponent(readString(env, 'POSTGRES_DB', 'analytics'))
  return `postgres://${user}:${password}@${host}:${port}/${db}`
}

export function readRedisUrl(env: EnvSource): string {
  return readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']) ?? 'redis://127.0.0.1:6379'
}

/** A Redis Cluster seed node. */
export interface RedisNode {
  host: string
  port: number
}

/**
 * Where Redis is: one server (REDIS_URL), or a Redis Cluster reached through the seed nodes of
 * REDIS_CLUSTER_NODES, with the user, password and TLS of REDIS_URL.
 */
export interface RedisTarget {
  url: string
  /** Set: connect through ioredis's Cluster; the queue's keys then carry a hash tag (lib/queue.ts). */
  clusterNodes?: RedisNode[]
}

/** `host:port` or `[IPv6]:port`. */
const NODE = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/

function readRedisClusterNodes(env: EnvSource): RedisNode[] | undefined {
  const raw = readOptionalString(env, 'REDIS_CLUSTER_NODES')
  if (raw === undefined) return undefined
  return raw.split(',').map((entry) => {
    const match = NODE.exec(entry.trim())
    const port = Number(match?.[3])
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`REDIS_CLUSTER_NODES must be host:port entries separated by commas (such as 10.0.0.1:6379,10.0.0.2:6379), got "${entry.trim()}"`)
    }
    return { host: match[1] ?? match[2]!, port }
  })
}

export function readRedis(env: EnvSource): RedisTarget {
  const url = readRedisUrl(env)
  const clusterNodes = readRedisClusterNodes(env)
  if (!clusterNodes) return { url }
  // A cluster serves database 0 only (SELECT is refused there).
  const database = new URL(url).pathname.slice(1)
  if (database !== '' && database !== '0') {
    throw new ConfigError(`REDIS_URL names database ${database}, but a Redis Cluster (REDIS_CLUSTER_NODES) has database 0 only`)
  }
  return { url, clusterNodes }
}

export function readQueueName(env: EnvSource): string {
  const name = readString(env, 'QUEUE_NAME', 'analytics-events')
  // BullMQ uses ':' as its key separator, so a queue name must not contain one.
  if (name.includes(':')) throw new ConfigError(`QUEUE_NAME must not contain ':', got "${name}"`)
  return name
}

/** Hides the password of a connection URL so it can be logged or shown in an error. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
  }
}
