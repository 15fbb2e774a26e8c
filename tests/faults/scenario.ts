/**
 * One fault scenario under steady load: a fresh database and queue, the API and the worker as
 * real processes, a load generator, a disruption, then the exactly-once and rollup checks.
 */
import { expect } from 'bun:test'
import type postgres from 'postgres'
import {
  awaitDrained,
  checkExactlyOnce,
  checkRollups,
  freePort,
  ledgerOf,
  QueueProbe,
  spawnedSince,
  spawnMark,
  startApi,
  startWorker,
  stopAll,
  uniqueName,
  type ManagedProcess,
  type PrivatePostgres,
  type StackEnv,
  type TestRedis,
} from './harness'
import { LoadGenerator, type LoadOptions, type LoadResult } from './load'

export interface ScenarioContext {
  env: StackEnv
  siteId: string
  port: number
  baseUrl: string
  api: ManagedProcess
  worker: ManagedProcess
  load: LoadGenerator
  probe: QueueProbe
  sql: postgres.Sql
}

export interface ScenarioOutcome {
  result: LoadResult
}

export interface ScenarioOptions {
  load?: Partial<LoadOptions>
  /** Acknowledgements to see before the disruption and again after it (default 300). */
  steadyAcks?: number
  drainTimeoutMs?: number
  /**
   * 'exact' (default): accepted = written + duplicates, as the README promises once the queue is
   * empty. 'at-most': accepted <= written + duplicates, for disruptions that lose the API's last
   * second of counts (kill -9) or redeliver a job whose transaction had committed (worker killed
   * between COMMIT and marking the job done, which counts its events again as duplicates).
   */
  ledger?: 'exact' | 'at-most'
}

const log = (...parts: unknown[]) => (process.env.FAULTS_VERBOSE ? console.log(...parts) : undefined)

export async function runScenario(
  pg: PrivatePostgres,
  redis: TestRedis,
  label: string,
  disrupt: (ctx: ScenarioContext) => Promise<void>,
  options: ScenarioOptions = {},
): Promise<ScenarioOutcome> {
  const steady = options.steadyAcks ?? 300
  const database = await pg.createDatabase(label)
  const env: StackEnv = { databaseUrl: database.url, redis: redis.target, queueName: uniqueName(label) }
  const siteId = `site-${label}`
  const port = freePort()
  const probe = new QueueProbe(redis, env.queueName)
  const mark = spawnMark()
  const started = performance.now()
  let load: LoadGenerator | undefined
  let ctx: ScenarioContext | undefined
  try {
    const [api, worker] = await Promise.all([startApi(env, port), startWorker(env)])
    ctx = {
      env,
      siteId,
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      api,
      worker,
      load: (load = new LoadGenerator({ baseUrl: `http://127.0.0.1:${port}`, siteId, seed: label.length, ...options.load })),
      probe,
      sql: database.sql,
    }
    const lap = (stage: string) => log(label, stage, Math.round(performance.now() - started), 'ms')
    lap('started')
    load.start()
    await load.waitForAcknowledged(steady, 30_000)
    lap('steady')
    await disrupt(ctx)
    lap('disrupted')
    // Ingestion is back: the load goes on being acknowledged after the disruption.
    await load.waitForMore(steady, 30_000)
    const result = await load.stop()
    load = undefined
    log(label, 'load', { acknowledged: result.acknowledged.size, sent: result.sent.size, retries: result.retries, outcomes: result.outcomes })
    expect(result.refusals).toEqual([])

    lap('load stopped')
    await awaitDrained(probe, database.sql, siteId, result.acknowledged, options.drainTimeoutMs ?? 45_000, [ctx.api, ctx.worker])
    lap('drained')
    const report = await checkExactlyOnce(database.sql, siteId, result.acknowledged, result.sent)
    expect(report.missing).toEqual([])
    await checkRollups(database.sql, siteId)

    // A graceful stop flushes the API's ledger counts; the worker's are transactional.
    const codes = await Promise.all([ctx.api.stop('SIGTERM'), ctx.worker.stop('SIGTERM')])
    expect(codes).toEqual([0, 0])
    const ledger = await ledgerOf(database.sql, siteId)
    expect(ledger?.written).toBe(report.rowsForSite)
    if ((options.ledger ?? 'exact') === 'exact') {
      // Every event the API answered 202 for went into a job that the worker wrote or skipped.
      expect(ledger!.accepted).toBe(ledger!.written + ledger!.duplicates)
      expect(ledger!.accepted).toBeGreaterThanOrEqual(result.acknowledged.size)
    } else {
      expect(ledger!.accepted).toBeLessThanOrEqual(ledger!.written + ledger!.duplicates)
    }
    log(label, 'done', { ms: Math.round(performance.now() - started), ledger, rows: report.rowsForSite })
    return { result }
  } finally {
    if (load) await load.stop(0)
    await stopAll(spawnedSince(mark))
    await probe.close()
  }
}
