/**
 * Crashes under steady load, with real processes on a private PostgreSQL and Redis (one server,
 * and a Redis Cluster for the crashes that involve Redis): every event the API answered 202 for
 * ends up in Postgres exactly once, and the rollups equal a recount.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  awaitDrained,
  awaitJobsDone,
  awaitLine,
  checkExactlyOnce,
  expireDeadWorkerLocks,
  freePort,
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
  withDeadline,
  type ManagedProcess,
} from './harness'
import { runScenario, type ScenarioContext } from './scenario'

let pg: PrivatePostgres
const kinds = privateRedisKinds()
const [single] = kinds

beforeAll(async () => {
  pg = await startPrivateServices(kinds.map(({ redis }) => redis))
}, 120_000)

afterAll(() => stopPrivateServices(pg, kinds.map(({ redis }) => redis)), 60_000)

describe.each([...kinds])('crashes under steady load, on $kind', ({ redis }) => {
  test('kill -9 of the worker three times: restarted workers finish every interrupted batch', async () => {
    let interrupted = 0
    await runScenario(
      pg,
      redis,
      'kill_worker',
      async (ctx) => {
        for (let round = 1; round <= 3; round++) {
          // Kill while a batch is being written.
          await awaitLine(ctx.worker, '"processing batch"', 20_000, ctx.worker.log.position)
          ctx.worker.proc.kill('SIGKILL')
          await ctx.worker.exited
          expect(ctx.worker.proc.signalCode).toBe('SIGKILL')
          const orphaned = await expireDeadWorkerLocks(ctx.probe)
          interrupted += orphaned.length
          ctx.worker = await startWorker(ctx.env, `worker-${round + 1}`)
          // Each interrupted job is redone before the next kill, so none is interrupted twice.
          await awaitJobsDone(ctx.probe, orphaned, 30_000)
          await ctx.load.waitForMore(100, 30_000)
        }
      },
      { ledger: 'at-most' },
    )
    // The kills did land while batches were in flight (not only between them).
    expect(interrupted).toBeGreaterThan(0)
  }, 150_000)

  test('kill -9 of the API: a new API on the same port, the client retrying with the same event_id', async () => {
    const outcome = await runScenario(
      pg,
      redis,
      'kill_api',
      async (ctx) => {
        ctx.api.proc.kill('SIGKILL')
        await ctx.api.exited
        expect(ctx.api.proc.signalCode).toBe('SIGKILL')
        ctx.api = await startApi(ctx.env, ctx.port, 'api-2')
      },
      { ledger: 'at-most' },
    )
    // Requests did fail while the API was gone, and were retried.
    const failures = Object.entries(outcome.result.outcomes).filter(([o]) => o.startsWith('network:') || o === 'timeout')
    expect(failures.length).toBeGreaterThan(0)
    expect(outcome.result.retries).toBeGreaterThan(0)
  }, 150_000)

  test('SIGTERM to the API and the worker: both drain and exit 0, then start again', async () => {
    await runScenario(pg, redis, 'sigterm', async (ctx) => {
      const apiFrom = ctx.api.log.position
      const workerFrom = ctx.worker.log.position
      ctx.api.proc.kill('SIGTERM')
      ctx.worker.proc.kill('SIGTERM')
      const codes = await Promise.all([ctx.api.stop('SIGTERM', 30_000), ctx.worker.stop('SIGTERM', 30_000)])
      expect(codes).toEqual([0, 0])
      expect(ctx.api.log.seen('"api stopped"', apiFrom)).toBe(true)
      expect(ctx.worker.log.seen('"worker stopped"', workerFrom)).toBe(true)
      // Nothing is left active: the worker finished every job it held before exiting (one it
      // abandoned would stay active, locked, until the stalled check requeues it).
      expect((await ctx.probe.counts()).raw.active).toBe(0)
      ;[ctx.api, ctx.worker] = await Promise.all([startApi(ctx.env, ctx.port, 'api-2'), startWorker(ctx.env, 'worker-2')])
    })
  }, 150_000)

  test('a batch interrupted by two worker crashes is still written, not failed for good', async () => {
    // The batch is held in flight by an advisory lock on its site (the worker's transaction waits
    // for it), so each kill lands while it is being written.
    const mark = spawnMark()
    const database = await pg.createDatabase('double_crash')
    const env = { databaseUrl: database.url, redis: redis.target, queueName: uniqueName('double_crash') }
    const probe = new QueueProbe(redis, env.queueName)
    const holder = await database.sql.reserve()
    const site = 'site-double-crash'
    try {
      const port = freePort()
      const api = await startApi(env, port)
      await holder`select pg_advisory_lock(hashtext(${site}))`
      const acknowledged = new Set<string>()
      for (const id of ['dc-1', 'dc-2', 'dc-3']) {
        const response = await fetch(`http://127.0.0.1:${port}/event`, {
          method: 'POST',
          body: JSON.stringify({ site_id: site, event_type: 'page_view', path: '/', timestamp: '2025-11-14T10:00:00Z', event_id: id }),
        })
        expect(response.status).toBe(202)
        acknowledged.add(id)
      }
      let worker = await startWorker(env, 'worker-1')
      for (let crash = 1; crash <= 2; crash++) {
        await awaitLine(worker, '"processing batch"', 20_000)
        worker.proc.kill('SIGKILL')
        await worker.exited
        expect(await expireDeadWorkerLocks(probe)).not.toEqual([])
        worker = await startWorker(env, `worker-${crash + 1}`)
      }
      await holder`select pg_advisory_unlock(hashtext(${site}))`
      // README: failed batches are retried 12 times with backoff. Today BullMQ's default
      // maxStalledCount (1) fails a job stalled twice at once: "job stalled more than allowable limit".
      await awaitDrained(probe, database.sql, site, acknowledged, 30_000, [api, worker])
      await checkExactlyOnce(database.sql, site, acknowledged, acknowledged)
    } finally {
      await holder`select pg_advisory_unlock_all()`.catch(() => {})
      holder.release()
      await stopAll(spawnedSince(mark))
      await probe.close()
    }
  }, 120_000)
})

describe('PostgreSQL restarts under steady load, on one Redis', () => {
  test('restart of PostgreSQL (fast stop, start), three times: the processes survive and failed batches are retried', async () => {
    // Crashes are recorded, and the crashed process restarted as `restart: unless-stopped` would,
    // so that the data checks still run; the test then fails naming each crash.
    const crashes: string[] = []
    const exitedDuringOutage = (p: ManagedProcess) => p.proc.exitCode !== null || p.proc.signalCode !== null
    const restartCrashed = async (ctx: ScenarioContext) => {
      for (const name of ['api', 'worker'] as const) {
        const p = ctx[name]
        if (!exitedDuringOutage(p)) continue
        crashes.push(`${p.name} exited ${p.proc.signalCode ?? p.proc.exitCode} during the Postgres restart:\n${p.stderr.tail(12)}`)
        if (name === 'api') {
          ctx.api = await startApi(ctx.env, ctx.port, `${p.name}+`)
        } else {
          const orphaned = await expireDeadWorkerLocks(ctx.probe)
          ctx.worker = await startWorker(ctx.env, `${p.name}+`)
          await awaitJobsDone(ctx.probe, orphaned, 30_000)
        }
      }
    }
    await runScenario(
      pg,
      single.redis,
      'restart_pg',
      async (ctx) => {
        for (let round = 1; round <= 3; round++) {
          const from = ctx.worker.log.position
          await pg.stop('fast')
          // The worker meets the outage (or dies of it) while the load goes on: Redis absorbs it.
          await withDeadline(Promise.race([ctx.worker.log.next('"batch failed"', from), ctx.worker.exited]), 20_000, 'the worker to meet the outage')
          await ctx.load.waitForMore(100, 20_000)
          await pg.start()
          await restartCrashed(ctx)
          // Batches are written again before the next round.
          await awaitLine(ctx.worker, '"batch inserted"', 30_000, ctx.worker.log.position)
        }
      },
      { ledger: 'at-most' },
    )
    expect(crashes).toEqual([])
  }, 150_000)
})
