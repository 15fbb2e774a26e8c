import { Elysia, t } from 'elysia'
import type postgres from 'postgres'
import { withTimeout } from '../../lib/timeout'
import type { Access } from '../access'
import type { IngestQueue, RedisConnection } from '../../lib/queue'

const CHECK_TIMEOUT_MS = 1_000

type CheckResult = 'up' | 'down'

async function probe(run: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await withTimeout(run(), CHECK_TIMEOUT_MS, () => new Error('timeout'))
    return 'up'
  } catch {
    return 'down'
  }
}

const Check = t.Union([t.Literal('up'), t.Literal('down')])
// `replica` only when STATS_DATABASE_URL is set: without one, the answer is the original's.
const Checks = t.Object({ redis: Check, postgres: Check, replica: t.Optional(Check) })
const Health = t.Object({
  status: t.Union([t.Literal('healthy'), t.Literal('unhealthy')]),
  service: t.Literal('analytics-api'),
  checks: Checks,
})

/**
 * Redis answers where the queue is: one server's PING; on a cluster, a command on the queue's slot,
 * since a PING reaches any node and the queue's master may be the one that is down.
 */
const queueRedisAnswers = (redis: RedisConnection, queue: IngestQueue) => (redis.isCluster ? redis.exists(queue.toKey('meta')) : redis.ping())

/** `replica`: the STATS_DATABASE_URL pool; stats cannot answer without it, so it counts like the primary. */
export function healthRoutes(deps: { redis: RedisConnection; queue: IngestQueue; sql: postgres.Sql; replica?: postgres.Sql; access: Access }) {
  const { replica } = deps
  return new Elysia({ name: 'health' })
    .use(deps.access.plugin)
    .guard({ access: 'public' })
    .get(
      '/health',
      async ({ status }) => {
        const [redis, pg, standby] = await Promise.all([
          probe(() => queueRedisAnswers(deps.redis, deps.queue)),
          probe(() => deps.sql`select 1`),
          replica ? probe(() => replica`select 1`) : undefined,
        ])
        const checks = { redis, postgres: pg, ...(standby && { replica: standby }) }
        if (redis === 'up' && pg === 'up' && standby !== 'down') return { status: 'healthy' as const, service: 'analytics-api' as const, checks }
        return status(503, { status: 'unhealthy' as const, service: 'analytics-api' as const, checks })
      },
      { response: { 200: Health, 503: Health }, detail: { summary: 'Liveness and dependency checks', tags: ['ops'] } },
    )
}
