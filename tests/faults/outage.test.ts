/**
 * Dependency outages, with the API and the worker as real processes on a private PostgreSQL and
 * Redis (one server, and a Redis Cluster for the Redis outage): ingestion fails fast and clearly without Redis and resumes by itself when it returns;
 * without Postgres the queue absorbs ingestion, reads answer 503, and every accepted event lands
 * once Postgres is back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type postgres from 'postgres'
import {
  assertAlive,
  awaitDrained,
  checkExactlyOnce,
  checkRollups,
  freePort,
  pollUntil,
  startPrivateServices,
  stopPrivateServices,
  type PrivatePostgres,
  privateRedisKinds,
  QueueProbe,
  spawnedSince,
  spawnMark,
  startApi,
  startWorker,
  stopAll,
  uniqueName,
  type ManagedProcess,
  type StackEnv,
  type TestRedis,
} from './harness'
import { LoadGenerator, type LoadResult } from './load'

let pg: PrivatePostgres
const kinds = privateRedisKinds()
const [single, cluster] = kinds

beforeAll(async () => {
  pg = await startPrivateServices(kinds.map(({ redis }) => redis))
}, 120_000)

afterAll(() => stopPrivateServices(pg, kinds.map(({ redis }) => redis)), 60_000)

interface Stack {
  env: StackEnv
  siteId: string
  baseUrl: string
  sql: postgres.Sql
  api: ManagedProcess
  worker: ManagedProcess
  probe: QueueProbe
}

/** A fresh database and queue on `redis`, the API and the worker; always cleaned up. */
async function withStack(redis: TestRedis, label: string, body: (stack: Stack) => Promise<void>): Promise<void> {
  const mark = spawnMark()
  const database = await pg.createDatabase(label)
  const env: StackEnv = { databaseUrl: database.url, redis: redis.target, queueName: uniqueName(label) }
  const port = freePort()
  const probe = new QueueProbe(redis, env.queueName)
  try {
    const [api, worker] = await Promise.all([startApi(env, port), startWorker(env)])
    await body({ env, siteId: `site-${label}`, baseUrl: `http://127.0.0.1:${port}`, sql: database.sql, api, worker, probe })
  } finally {
    await stopAll(spawnedSince(mark))
    await probe.close()
  }
}

interface Timed {
  status: number
  ms: number
  headers: Headers
  body: unknown
}

/** One request, timed; never left hanging (aborted after 5 s, which fails the latency checks). */
async function timed(url: string, init: RequestInit = {}): Promise<Timed> {
  const began = performance.now()
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, ms: performance.now() - began, headers: response.headers, body }
}

const postEvent = (baseUrl: string, eventId: string) =>
  timed(`${baseUrl}/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ site_id: 'probe-site', event_type: 'page_view', path: '/probe', timestamp: '2025-11-14T12:00:00Z', event_id: eventId }),
  })

/** Runs `count` requests, `concurrency` at a time. */
/** Until POST /event is accepted again (bounded, polled); then both processes live and /health is 200. */
async function awaitRecovered(stack: Stack, after: string): Promise<void> {
  const recovered = await pollUntil(
    `POST /event to be accepted again after ${after}`,
    async () => {
      const answer = await postEvent(stack.baseUrl, `recovered-${Date.now()}`)
      return answer.status === 202 ? answer : undefined
    },
    20_000,
    100,
  )
  expect(recovered.status).toBe(202)
  assertAlive([stack.api, stack.worker])
  expect((await timed(`${stack.baseUrl}/health`)).status).toBe(200)
}

async function burst<T>(count: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++
        results[i] = await one(i)
      }
    }),
  )
  return results
}

/** Stops the load and checks that what it (and `earlier` loads on the site) got acknowledged is stored once. */
async function finishLoad(stack: Stack, load: LoadGenerator, drainMs: number, earlier: LoadResult[] = []): Promise<LoadResult> {
  const result = await load.stop()
  expect(result.refusals).toEqual([])
  await awaitDrained(stack.probe, stack.sql, stack.siteId, result.acknowledged, drainMs, [stack.api, stack.worker])
  const all = [...earlier, result]
  await checkExactlyOnce(stack.sql, stack.siteId, new Set(all.flatMap((r) => [...r.acknowledged])), new Set(all.flatMap((r) => [...r.sent])))
  await checkRollups(stack.sql, stack.siteId)
  return result
}

/** Waits until the API has written its ledger counts for everything acknowledged (it is idle then). */
async function awaitLedgerFlushed(stack: Stack, acknowledged: number): Promise<void> {
  await pollUntil(
    'the API to write its ledger counts',
    async () => {
      const [row] = await stack.sql<{ accepted: number }[]>`select accepted::int from ingest_ledger where site_id = ${stack.siteId}`
      return (row?.accepted ?? 0) >= acknowledged
    },
    15_000,
  )
}

describe.each([...kinds])('Redis outage, on $kind', ({ redis }) => {
  test('503 with a clear JSON error within 1 s, /health names redis down, ingestion resumes without restarting the API', async () => {
    await withStack(redis, 'redis_down', async (stack) => {
      // Warm up, then let everything settle: the outage starts with nothing in flight.
      const warmup = new LoadGenerator({ baseUrl: stack.baseUrl, siteId: stack.siteId, idPrefix: 'warm', ratePerSecond: 250 })
      warmup.start()
      await warmup.waitForAcknowledged(200, 30_000)
      const before = await finishLoad(stack, warmup, 30_000)

      await redis.kill('SIGKILL')
      try {
        // Each request during the outage is answered 503 within 1 s, with a JSON error naming the cause.
        const answers = await burst(60, 12, (i) => postEvent(stack.baseUrl, `outage-${i}`))
        const slow = answers.filter((a) => a.ms >= 1_000).map((a) => Math.round(a.ms))
        expect(slow).toEqual([])
        for (const answer of answers) {
          expect(answer.status).toBe(503)
          expect(answer.body).toEqual({ error: expect.stringMatching(/queue is unavailable/i), retryAfterSeconds: expect.any(Number) })
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0)
        }
        // Once the API has seen the connection drop, the error says it is Redis.
        expect(answers.some((a) => (a.body as { error: string }).error.includes('Redis is not connected'))).toBe(true)

        // A batch is refused the same way.
        const batch = await timed(`${stack.baseUrl}/events`, {
          method: 'POST',
          body: JSON.stringify({ events: [{ site_id: 'probe-site', event_type: 'click', path: '/b', timestamp: '2025-11-14T12:00:00Z' }] }),
        })
        expect(batch.status).toBe(503)
        expect(batch.ms).toBeLessThan(1_000)

        const health = await timed(`${stack.baseUrl}/health`)
        expect(health.status).toBe(503)
        expect(health.body).toEqual({ status: 'unhealthy', service: 'analytics-api', checks: { redis: 'down', postgres: 'up' } })
        expect(health.ms).toBeLessThan(2_000)
      } finally {
        await redis.start()
      }

      // Same API process, same port: 202s come back by themselves (bounded wait, polled).
      const load = new LoadGenerator({ baseUrl: stack.baseUrl, siteId: stack.siteId, idPrefix: 'after', ratePerSecond: 250 })
      await awaitRecovered(stack, 'Redis came back')

      // And the worker, reconnected too, writes what is accepted now.
      load.start()
      await load.waitForAcknowledged(200, 30_000)
      const after = await finishLoad(stack, load, 30_000, [before])
      expect(before.acknowledged.size + after.acknowledged.size).toBeGreaterThanOrEqual(400)
    })
  }, 120_000)
})

describe('Redis Cluster: the master holding the queue down', () => {
  test("503 within 1 s while the master of the queue's slot is down, ingestion resumes by itself once it is back", async () => {
    await withStack(cluster.redis, 'master_down', async (stack) => {
      const warmup = new LoadGenerator({ baseUrl: stack.baseUrl, siteId: stack.siteId, idPrefix: 'warm', ratePerSecond: 250 })
      warmup.start()
      await warmup.waitForAcknowledged(200, 30_000)
      const before = await finishLoad(stack, warmup, 30_000)

      // The other two masters stay up: the cluster fails only the queue's slot's owner.
      const port = await cluster.redis.killMasterOf(stack.probe.queue.toKey('wait'))
      try {
        const answers = await burst(60, 12, (i) => postEvent(stack.baseUrl, `master-down-${i}`))
        expect(answers.filter((a) => a.ms >= 1_000).map((a) => Math.round(a.ms))).toEqual([])
        for (const answer of answers) {
          expect(answer.status).toBe(503)
          expect(answer.body).toEqual({ error: expect.stringMatching(/queue is unavailable/i), retryAfterSeconds: expect.any(Number) })
        }
        const health = await timed(`${stack.baseUrl}/health`)
        expect(health.status).toBe(503)
        expect(health.body).toEqual({ status: 'unhealthy', service: 'analytics-api', checks: { redis: 'down', postgres: 'up' } })
      } finally {
        await cluster.redis.restartNode(port)
      }

      await awaitRecovered(stack, 'the master came back')

      // The worker, back on that master too, writes what is accepted now.
      const load = new LoadGenerator({ baseUrl: stack.baseUrl, siteId: stack.siteId, idPrefix: 'after', ratePerSecond: 250 })
      load.start()
      await load.waitForAcknowledged(200, 30_000)
      await finishLoad(stack, load, 30_000, [before])
    })
  }, 120_000)
})

const READ_PATHS = [
  '/stats?site_id=s&date=2025-11-14',
  '/stats?site_id=s&from=2025-11-01&to=2025-11-14&tz=Europe/Paris',
  '/stats/timeseries?site_id=s&from=2025-11-01&to=2025-11-14',
  '/stats/realtime?site_id=s',
  '/sites',
  '/ingest/ledger',
  '/ingest/ledger?site_id=s',
]

describe('PostgreSQL outage, on one Redis', () => {
  test('ingestion keeps answering 202, reads answer 503 with a JSON error, and every accepted event lands once Postgres is back', async () => {
    await withStack(single.redis, 'pg_down', async (stack) => {
      const load = new LoadGenerator({ baseUrl: stack.baseUrl, siteId: stack.siteId, ratePerSecond: 250 })
      load.start()
      let early: LoadResult
      try {
        await load.waitForAcknowledged(200, 30_000)
        // Quiesce before the stop: a connection closing under a pending write crashes the
        // process (see crash.test.ts); this test is about behaviour while Postgres is away.
        early = await load.stop()
        await awaitDrained(stack.probe, stack.sql, stack.siteId, early.acknowledged, 30_000, [stack.api, stack.worker])
        await awaitLedgerFlushed(stack, early.acknowledged.size)
      } catch (error) {
        await load.stop(0)
        throw error
      }

      const reads: { path: string; status: number; body: unknown; retryAfter: string | null; fast: boolean }[] = []
      await pg.stop('fast')
      const during = new LoadGenerator({ baseUrl: stack.baseUrl, siteId: stack.siteId, idPrefix: 'during', ratePerSecond: 250, seed: 7 })
      let duringResult: LoadResult | undefined
      try {
        during.start()
        // The queue absorbs ingestion while Postgres is down.
        await during.waitForAcknowledged(300, 30_000)
        // The worker is trying, and failing, to write.
        await stack.worker.log.next('"batch failed"', 0)

        // Every read answers 503 with the documented JSON error (recorded here, asserted at the
        // end, so that the landing of the accepted events is checked whatever these answer).
        for (const path of READ_PATHS) {
          const answer = await timed(`${stack.baseUrl}${path}`)
          reads.push({ path, status: answer.status, body: answer.body, retryAfter: answer.headers.get('retry-after'), fast: answer.ms < 2_000 })
        }
        const health = await timed(`${stack.baseUrl}/health`)
        expect(health.status).toBe(503)
        expect(health.body).toEqual({ status: 'unhealthy', service: 'analytics-api', checks: { redis: 'up', postgres: 'down' } })
      } finally {
        duringResult = await during.stop()
        await pg.start()
      }
      // Every request of the outage was accepted at the first attempt.
      expect(duringResult.outcomes).toEqual({ '202': duringResult.sent.size })
      assertAlive([stack.api, stack.worker])

      await pollUntil('/health to be 200 again', async () => (await timed(`${stack.baseUrl}/health`)).status === 200, 15_000, 100)
      // The worker's retries (backoff from 1 s, doubling) write everything that was accepted.
      await awaitDrained(stack.probe, stack.sql, stack.siteId, duringResult.acknowledged, 45_000, [stack.api, stack.worker])
      const acknowledged = new Set([...early.acknowledged, ...duringResult.acknowledged])
      const report = await checkExactlyOnce(stack.sql, stack.siteId, acknowledged, new Set([...early.sent, ...duringResult.sent]))
      await checkRollups(stack.sql, stack.siteId)
      const rows = report.rowsForSite
      const stats = await timed(`${stack.baseUrl}/stats?site_id=${stack.siteId}&from=2025-11-10&to=2025-11-14`)
      expect(stats.status).toBe(200)
      expect((stats.body as { event_types: { count: number }[] }).event_types.reduce((sum, t) => sum + t.count, 0)).toBe(rows)

      expect(reads).toEqual(
        READ_PATHS.map((path) => ({
          path,
          status: 503,
          body: { error: 'Database is unavailable; retry later', retryAfterSeconds: 5 },
          retryAfter: '5',
          fast: true,
        })),
      )
    })
  }, 120_000)
})
