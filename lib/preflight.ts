/**
 * Start-up checks: each process confirms its dependencies answer before it serves, and exits with
 * a message that names the URL and how to start the service, instead of retrying silently.
 */
import postgres from 'postgres'
import { ReplyError } from 'ioredis'
import { redactUrl, type RedisTarget } from './config'
import { createProducerConnection } from './queue'
import { withTimeout } from './timeout'

const HINTS = {
  postgres:
    'Start PostgreSQL (locally: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`; with Docker: `docker compose up -d postgres`) or set DATABASE_URL.',
  redis:
    'Start Redis (locally: `redis-server --daemonize yes --bind 127.0.0.1 --port 6379`; with Docker: `docker compose up -d redis`) or set REDIS_URL.',
  redisAuth: 'Put its password in REDIS_URL (redis://:PASSWORD@host:6379; docker-compose builds it from REDIS_PASSWORD).',
  replica: 'Start the replica or correct STATS_DATABASE_URL (unset, the API reads from DATABASE_URL).',
  redisCluster: 'Start the cluster (every node, and `cluster info` showing cluster_state:ok) or correct REDIS_CLUSTER_NODES.',
}

export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError'
}

const noAnswer = (what: string, ms: number) => () => new Error(`no answer from ${what} within ${ms} ms`)

export interface PostgresCheck {
  timeoutMs?: number
  /**
   * A missing role or database (or, under password authentication, a refused password, which is
   * how a missing role shows there) counts as reachable, for ensureDatabase to sort out.
   */
  allowMissingDatabase?: boolean
  /** The database is STATS_DATABASE_URL's replica, not DATABASE_URL's primary: the hint says so. */
  replica?: boolean
}

/** Resolves when Postgres answers `select 1`. */
export async function checkPostgres(url: string, { timeoutMs = 4_000, allowMissingDatabase = false, replica = false }: PostgresCheck = {}): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: Math.ceil(timeoutMs / 1000), onnotice: () => {} })
  try {
    await withTimeout(sql`select 1`, timeoutMs, noAnswer('PostgreSQL', timeoutMs))
  } catch (error) {
    const code = (error as { code?: string }).code
    if (allowMissingDatabase && (code === '3D000' || code === '28000' || code === '28P01')) return
    throw new DependencyUnavailableError(`Cannot reach PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}. ${replica ? HINTS.replica : HINTS.postgres}`)
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

/** How an error names where Redis is: its URL (without the password), or the cluster's seed nodes. */
const redisPlace = (target: RedisTarget) =>
  target.clusterNodes ? `the Redis Cluster at ${target.clusterNodes.map((node) => `${node.host}:${node.port}`).join(',')}` : redactUrl(target.url)

export async function checkRedis(target: RedisTarget, timeoutMs = 4_000): Promise<void> {
  // One attempt, no retries: a cluster is ready once its slots are known and it reports cluster_state:ok.
  const redis = createProducerConnection(target, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null })
  // Reported through the rejected promise below, except a refused password: ioredis then only
  // rejects with "Connection is closed" (or, on a cluster, "None of startup nodes is available"),
  // and the reason comes as an error event (of the node, on a cluster).
  let refused: Error | undefined
  // On a cluster, a node's answer (such as a server without cluster support) says more than "None of startup nodes is available".
  let nodeAnswer: Error | undefined
  const noteRefusal = (error: Error) => {
    if (/^(NOAUTH|WRONGPASS)/.test(error.message)) refused = error
  }
  redis.on('error', noteRefusal)
  redis.on('node error', (error: Error) => {
    if (error instanceof ReplyError) nodeAnswer = error
    noteRefusal(error)
  })
  const place = redisPlace(target)
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      timeoutMs,
      noAnswer(target.clusterNodes ? 'the Redis Cluster' : 'Redis', timeoutMs),
    )
  } catch (error) {
    if (refused) throw new DependencyUnavailableError(`Redis at ${place} refused the connection: ${refused.message}. ${HINTS.redisAuth}`)
    if (target.clusterNodes) throw new DependencyUnavailableError(`Cannot reach ${place}: ${(nodeAnswer ?? (error as Error)).message}. ${HINTS.redisCluster}`)
    throw new DependencyUnavailableError(`Cannot reach Redis at ${place}: ${(error as Error).message}. ${HINTS.redis}`)
  } finally {
    redis.disconnect()
  }
}
