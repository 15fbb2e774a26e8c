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

const Checks = t.Object({ redis: t.Union([t.Literal('up'), t.Literal('down')]), postgres: t.Union([t.Literal('up'), t.Literal('down')]) })
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

export function healthRoutes(deps: { redis: RedisConnection; queue: IngestQueue; sql: postgres.Sql; access: Access }) {
  return new Elysia({ name: 'health' })
    .use(deps.access.plugin)
    .guard({ access: 'public' })
    .get(
      '/health',
      async ({ status }) => {
        const [redis, pg] = await Promise.all([probe(() => queueRedisAnswers(deps.redis, deps.queue)), probe(() => deps.sql`select 1`)])
        const checks = { redis, postgres: pg }
        if (redis === 'up' && pg === 'up') return { status: 'healthy' as const, service: 'analytics-api' as const, checks }
        return status(503, { status: 'unhealthy' as const, service: 'analytics-api' as const, checks })
      },
      { response: { 200: Health, 503: Health }, detail: { summary: 'Liveness and dependency checks', tags: ['ops'] } },
    )
}
