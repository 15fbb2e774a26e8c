/**
 * Ingest benchmark, everything on this machine: `bun bench/ingest.ts [--quick] [--runs 3] ...`
 * (`--help` lists the flags).
 *
 * Phases, each against a fresh `analytics_bench` database and an empty `bench-events` queue, with
 * the API and the worker started as child processes for that phase only:
 *   single  POST /event, one event per request, wrk at full speed
 *   bare    the same load against bench/bare-server.ts (Bun.serve, parse JSON, answer 202): the ceiling
 *   batch   POST /events, --batch-size events per request
 *   rate    constant --rate events/s, then accept-to-commit lag over every stored row
 * Every phase is repeated --runs times and medians are reported.
 *
 * After each product load the benchmark waits until Postgres holds every accepted event (the
 * drain), then checks exactly-once: rows == events answered 202 and no event_id stored twice.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseOptions, UsageError, type BenchOptions } from './cli'
import { API_HEAP_RAM_BYTES } from '../scripts/env'
import {
  answersHealth,
  anyDied,
  API_COMMAND,
  apiEnv,
  childEnv,
  freePort,
  LoggedProcess,
  pollUntil,
  ProcessDiedError,
  ROOT,
  tail,
  WORKER_COMMAND,
  workerEnv,
} from '../tests/kit/processes'
import { countOccurrences, CpuMeter, PeakRssSampler, postgresPids } from './processes'
import { heading, mb, median, num, pct, table } from './report'
import { ActivitySampler, BenchDatabase, BenchRedis } from './stores'
import { findWrk, killRunningWrk, runWrk, WrkMissingError, type WrkLoad, type WrkResult } from './wrk'

const STARTUP_TIMEOUT_MS = 30_000
/**
 * The API's settings for the benchmark. Rate limits off: all of wrk's traffic comes from one IP,
 * which the default per-IP limit (1,000 events/s) would cap, and the benchmark measures capacity.
 * Backpressure (INGEST_PACE_BACKLOG_EVENTS, INGEST_MAX_BACKLOG_EVENTS) stays at the product defaults: pacing shows up as latency, refusals as 503s.
 */
const API_BENCH_ENV = { ADMIN_PASSWORD: 'bench-only', RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_SITE: '0' }

type ProductKind = 'single' | 'batch' | 'rate'

interface Drain {
  /** False when --drain-timeout passed before every accepted event was stored. */
  complete: boolean
  seconds: number
  rows: number
}

interface ExactlyOnce {
  expected: number
  rows: number
  duplicates: number
  /** Rows whose event_id is not from this load (should be 0: the table is emptied before it). */
  foreign: number
  /** BullMQ jobs that ended in the failed set. */
  failedJobs: number
  /** Failed attempts the worker logged (retried jobs). */
  retries: number
  /** unverified: the drain timed out with fewer rows than accepted and nothing else wrong. */
  verdict: 'OK' | 'VIOLATED' | 'UNVERIFIED'
}

interface ProductResult {
  kind: ProductKind
  run: number
  load: WrkResult
  drain: Drain
  /** Rows stored / (load seconds + drain seconds); equals accepted / (...) when the drain completed. */
  persistedPerSecond: number
  check: ExactlyOnce
  lag: Awaited<ReturnType<BenchDatabase['lag']>>
  rssPeak: Record<string, number>
  cpuLoad: Record<string, number>
  cpuDrain: Record<string, number>
  redis: { idle: number; afterDrain: number; queueKeys: number }
  /** BullMQ jobs the API created for this load (it groups events into jobs). */
  jobs: number
  /** Sampled during load + drain: peak jobs waiting in Redis, Postgres sessions by wait event. */
  activity: { peakWaitingJobs: number; samples: number; waits: Record<string, number> }
}

interface BareResult {
  kind: 'bare'
  run: number
  load: WrkResult
  rssPeak: Record<string, number>
  cpuLoad: Record<string, number>
}

interface Unavailable {
  kind: ProductKind
  run: number
  unavailable: string
}

type PhaseResult = ProductResult | BareResult | Unavailable

/** Everything a phase needs; built once per invocation. */
interface Bench {
  options: BenchOptions
  wrk: string
  db: BenchDatabase
  redis: BenchRedis
  redisPid: number | undefined
  logDir: string
  /** Children alive right now, so a signal or an error can stop them. */
  children: Set<LoggedProcess>
}

const say = (line: string) => console.log(line)

function startChild(bench: Bench, name: string, cmd: string[], env: Record<string, string>): LoggedProcess {
  const child = LoggedProcess.start(name, cmd, { env, logPath: join(bench.logDir, `${name}.log`) })
  bench.children.add(child)
  return child
}

async function stopChildren(bench: Bench, children: LoggedProcess[]): Promise<void> {
  // The API first, so nothing new is enqueued while the worker finishes its active jobs.
  for (const child of children) {
    await child.stop()
    bench.children.delete(child)
  }
}

function wrkLoad(bench: Bench, url: string, tag: string, duration: number, batch: number, eventRate: number): WrkLoad {
  const { threads, connections, visitFields } = bench.options
  return { url, threads, connections, duration, tag, batch, requestRate: eventRate > 0 ? eventRate / Math.max(batch, 1) : 0, visitFields }
}

/**
 * Waits until Postgres holds `expected` rows; measured from the end of the load. The queue is
 * polled (cheap) and rows are counted only once it is empty: a count(*) every 100 ms over
 * millions of rows would take Postgres CPU from the very worker being measured.
 */
async function drainTo(bench: Bench, expected: number, loadEndedAt: number, watched: LoggedProcess[]): Promise<Drain> {
  const deadline = loadEndedAt + bench.options.drainTimeout * 1000
  const death = anyDied(watched)
  for (;;) {
    const unfinished = await Promise.race([bench.redis.unfinishedJobs(), death])
    const rows = unfinished === 0 ? await Promise.race([bench.db.countRows(), death]) : undefined
    const now = performance.now()
    if (rows !== undefined && rows >= expected) return { complete: true, seconds: (now - loadEndedAt) / 1000, rows }
    if (now >= deadline) return { complete: false, seconds: (now - loadEndedAt) / 1000, rows: rows ?? (await bench.db.countRows()) }
    // An empty queue with rows missing means failed jobs: look again, but less often.
    await Promise.race([Bun.sleep(rows === undefined ? 50 : 500), death])
  }
}

function describeLoad(load: WrkResult): string {
  const statuses = Object.entries(load.statuses)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ')
  const e = load.errors
  const socketErrors = e.connect + e.read + e.write + e.timeout
  return (
    `${num(load.answered)} requests in ${num(load.loadSeconds, 2)} s (${statuses || 'no answers'})` +
    (socketErrors > 0 ? `, socket errors connect ${e.connect} read ${e.read} write ${e.write} timeout ${e.timeout}` : '') +
    (load.threads_stopped < load.threads ? `, ${load.sent - load.answered} requests never answered` : '') +
    (load.refusal_sample ? `\n    first refusal: ${load.refusal_sample.replaceAll('\n', ' ')}` : '')
  )
}

async function productPhase(bench: Bench, kind: ProductKind, run: number): Promise<ProductResult | Unavailable> {
  const { options } = bench
  const batch = kind === 'batch' ? options.batchSize : kind === 'rate' ? options.rateBatch : 0
  const eventRate = kind === 'rate' ? options.rate : 0
  const duration = kind === 'rate' ? options.rateDuration : options.duration
  const tag = `${kind}${run}`
  say(`\n▶ ${kind} run ${run}: ${batch > 0 ? `POST /events × ${batch} events` : 'POST /event'}, ${eventRate > 0 ? `${num(eventRate)} events/s` : 'full speed'}, ${duration} s`)

  await bench.db.recreate()
  await bench.redis.deleteQueueKeys()
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const stack = { databaseUrl: bench.db.url, redis: { url: options.redisUrl }, queueName: options.queue }
  const workers = Array.from({ length: options.workers }, (_, n) =>
    startChild(
      bench,
      `worker-${tag}${options.workers > 1 ? `-${n + 1}` : ''}`,
      WORKER_COMMAND,
      // Empty means unset: the worker picks its default.
      workerEnv(stack, { WORKER_CONCURRENCY: options.workerConcurrency === undefined ? '' : String(options.workerConcurrency) }),
    ),
  )
  const worker = workers[0]!
  const api = startChild(bench, `api-${tag}`, API_COMMAND, apiEnv(stack, port, { ...API_BENCH_ENV, BUN_JSC_forceRAMSize: API_HEAP_RAM_BYTES }))
  const product = [api, ...workers]
  let rss: PeakRssSampler | undefined
  let sampler: ActivitySampler | undefined
  try {
    await pollUntil('the API to answer /health', () => answersHealth(url), STARTUP_TIMEOUT_MS, 100, product)
    for (const each of workers) await pollUntil('the worker to start', () => tail(each.logPath, 50).includes('"worker started"'), STARTUP_TIMEOUT_MS, 100, product)
    let redisIdle = await bench.redis.usedMemory()
    if (options.warmup > 0) {
      const warm = await runWrk(bench.wrk, wrkLoad(bench, url, `${tag}w`, options.warmup, batch, eventRate), childEnv({}), product)
      if (warm.ok === 0) {
        const reason = warm.statuses['404'] ? `POST ${batch > 0 ? '/events' : '/event'} answered 404 (not implemented yet)` : `no 202 at all: ${describeLoad(warm)}`
        say(`  ✗ ${reason}; phase not measured`)
        return { kind, run, unavailable: reason }
      }
      const warmDrain = await drainTo(bench, warm.events_accepted, warm.loadEndedAt, product)
      if (!warmDrain.complete) throw new Error(`warm-up events not stored after ${options.drainTimeout} s (${warmDrain.rows}/${warm.events_accepted})`)
      await bench.db.truncate()
      // Idle again. The first load on a fresh Redis server raises its used_memory once, for good
      // (0.9 -> 1.9 MB measured: cached BullMQ scripts, buffers, allocator pools); from here, what
      // remains after the measured drain is what that load left behind.
      redisIdle = await bench.redis.usedMemory()
    }
    const jobsBefore = await bench.redis.jobsCreated()

    const groups = () => ({ api: [api.pid], worker: workers.map((each) => each.pid), postgres: postgresPids(), redis: bench.redisPid ? [bench.redisPid] : [] })
    rss = new PeakRssSampler({ api: api.pid, worker: worker.pid }).start()
    sampler = new ActivitySampler(bench.db, bench.redis).start()
    const cpu = new CpuMeter(groups).start()
    const load = await runWrk(bench.wrk, wrkLoad(bench, url, tag, duration, batch, eventRate), childEnv({}), product)
    const cpuLoad = { ...cpu.stop(), wrk: (100 * load.cpuSeconds) / load.loadSeconds }
    say(`  load: ${describeLoad(load)}`)
    if (load.ok === 0) throw new Error(`no request was accepted during the ${kind} load: ${describeLoad(load)}`)

    const drainCpu = new CpuMeter(groups).start()
    const drain = await drainTo(bench, load.events_accepted, load.loadEndedAt, product)
    const cpuDrain = drainCpu.stop()
    const rssPeak = rss.stop()
    const activity = await sampler.stop()
    const redisAfter = await bench.redis.usedMemory()
    const queueKeys = await bench.redis.queueKeyBytes()

    const stored = await bench.db.exactlyOnce(tag)
    const failedJobs = await bench.redis.failedJobs()
    const retries = workers.reduce((sum, each) => sum + countOccurrences(each.logPath, '"msg":"batch failed"'), 0)
    const jobs = (await bench.redis.jobsCreated()) - jobsBefore
    const duplicates = stored.rows - stored.distinctEventIds
    const check: ExactlyOnce = {
      expected: load.events_accepted,
      rows: stored.rows,
      duplicates,
      foreign: stored.foreign,
      failedJobs,
      retries,
      verdict:
        stored.rows > load.events_accepted || duplicates > 0 || stored.foreign > 0 || failedJobs > 0
          ? 'VIOLATED'
          : stored.rows < load.events_accepted
            ? 'UNVERIFIED'
            : 'OK',
    }
    const lag = await bench.db.lag()
    // When the drain timed out this is the rate at which rows were stored until then.
    const persistedPerSecond = drain.rows / (load.loadSeconds + drain.seconds)
    say(
      `  accepted ${num(load.events_accepted / load.loadSeconds)} events/s, p50 ${num(load.latency_us.p50 / 1000)} ms, p99 ${num(load.latency_us.p99 / 1000)} ms; ` +
        (drain.complete ? `drained in ${num(drain.seconds, 1)} s → persisted ${num(persistedPerSecond)} events/s; ` : `DRAIN INCOMPLETE after ${num(drain.seconds, 0)} s (${num(drain.rows)}/${num(load.events_accepted)}); `) +
        `exactly-once ${check.verdict} (${num(stored.rows)} rows / ${num(load.events_accepted)} accepted, ${duplicates} duplicate ids, ${failedJobs} failed jobs, ${retries} retried attempts); ` +
        `${num(jobs)} jobs (${num(load.events_accepted / jobs, 1)} events/job), peak ${num(activity.peakWaitingJobs)} jobs waiting`,
    )
    return { kind, run, load, drain, persistedPerSecond, check, lag, rssPeak, cpuLoad, cpuDrain, redis: { idle: redisIdle, afterDrain: redisAfter, queueKeys }, jobs, activity }
  } finally {
    // Idempotent: on success both were stopped above already.
    rss?.stop()
    await sampler?.stop()
    await stopChildren(bench, product)
    await bench.db.disconnect()
    await bench.redis.deleteQueueKeys()
  }
}

async function barePhase(bench: Bench, run: number): Promise<BareResult> {
  const { options } = bench
  say(`\n▶ bare run ${run}: bench/bare-server.ts, POST /event, full speed, ${options.duration} s`)
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const bare = startChild(bench, `bare-${run}`, [process.execPath, 'bench/bare-server.ts', '--port', String(port)], {})
  try {
    await pollUntil('the bare server to answer /health', () => answersHealth(url), STARTUP_TIMEOUT_MS, 100, [bare])
    if (options.warmup > 0) await runWrk(bench.wrk, wrkLoad(bench, url, `bare${run}w`, options.warmup, 0, 0), childEnv({}), [bare])
    const rss = new PeakRssSampler({ bare: bare.pid }).start()
    const cpu = new CpuMeter(() => ({ bare: [bare.pid] })).start()
    const load = await runWrk(bench.wrk, wrkLoad(bench, url, `bare${run}`, options.duration, 0, 0), childEnv({}), [bare])
    const cpuLoad = { ...cpu.stop(), wrk: (100 * load.cpuSeconds) / load.loadSeconds }
    const rssPeak = rss.stop()
    say(`  load: ${describeLoad(load)}`)
    say(`  ${num(load.ok / load.loadSeconds)} requests/s answered 202, p50 ${num(load.latency_us.p50 / 1000)} ms, p99 ${num(load.latency_us.p99 / 1000)} ms`)
    return { kind: 'bare', run, load, rssPeak, cpuLoad }
  } finally {
    await stopChildren(bench, [bare])
  }
}

// ------------------------------------------------------------------------------------------------
// Summary

const isProduct = (r: PhaseResult): r is ProductResult => 'check' in r
const isBare = (r: PhaseResult): r is BareResult => r.kind === 'bare'
const ms = (us: number) => num(us / 1000)

function perRunRows(results: PhaseResult[]): string[][] {
  return results.map((r) => {
    if ('unavailable' in r) return [r.kind, String(r.run), r.unavailable]
    const load = r.load
    const common = [r.kind, String(r.run), num(load.ok / load.loadSeconds), num(load.events_accepted / load.loadSeconds), num(load.non202), ms(load.latency_us.p50), ms(load.latency_us.p99)]
    if (isBare(r)) return [...common, '-', '-', '-', mb(r.rssPeak.bare), '-', '-']
    const redisDelta = (100 * (r.redis.afterDrain - r.redis.idle)) / r.redis.idle
    return [
      ...common,
      r.drain.complete ? num(r.drain.seconds, 1) : `>${num(r.drain.seconds, 0)} (incomplete)`,
      num(r.persistedPerSecond),
      `${r.check.verdict} ${num(r.check.rows)}/${num(r.check.expected)}, ${r.check.duplicates} dup`,
      mb(r.rssPeak.api),
      mb(r.rssPeak.worker),
      `${mb(r.redis.idle)} → ${mb(r.redis.afterDrain)} (${pct(redisDelta)})`,
    ]
  })
}

/** The code measured: the working tree (others edit it), so its commit and how many tracked files differ. */
function describeRevision(): string {
  // --no-optional-locks: read-only, never takes the index lock other git users may need.
  const git = (...args: string[]) => Bun.spawnSync(['git', '--no-optional-locks', ...args], { cwd: ROOT }).stdout.toString().trim()
  const head = git('rev-parse', '--short', 'HEAD')
  if (!head) return 'code: not a git checkout'
  const changed = git('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean).length
  return `code: working tree at ${head}${changed > 0 ? ` + ${changed} modified tracked file(s)` : ' (clean)'}`
}

function printSummary(options: BenchOptions, results: PhaseResult[], revision: string): boolean {
  say(heading(`Ingest benchmark summary — ${navigator.hardwareConcurrency} cores, wrk -t${options.threads} -c${options.connections}, worker concurrency ${options.workerConcurrency ?? 'default'}, ${options.workers} worker process${options.workers > 1 ? 'es' : ''}`))
  say(revision)
  say(
    options.visitFields
      ? 'events carry visit fields: a browser user agent, a referrer on 70%, UTM tags on a fifth, a screen width on 80%, a public address on half, a country on 15%'
      : 'events carry no visit fields (--visit-fields off)',
  )
  say('API rate limits off for the benchmark (RATE_LIMIT_PER_IP=0, RATE_LIMIT_PER_SITE=0); backpressure (pacing, then 503) at product defaults')
  say(
    `single/bare/batch: ${options.duration} s each, ${options.runs} run(s), warm-up ${options.warmup} s; batch = ${options.batchSize} events/request; ` +
      `rate: ${num(options.rate)} events/s for ${options.rateDuration} s${options.rateBatch > 0 ? ` in requests of ${options.rateBatch}` : ' via POST /event'}`,
  )

  say('\nPer run (req/s and events/s over the load window; latency measured by wrk; RSS = peak during load + drain)')
  say(
    table(
      ['phase', 'run', 'req/s 202', 'accepted ev/s', 'non-202', 'p50 ms', 'p99 ms', 'drain s', 'persisted ev/s', 'exactly-once rows/accepted', 'API RSS', 'worker RSS', 'Redis used_memory idle → after drain'],
      perRunRows(results),
    ),
  )

  // Medians over the repeated phases.
  const single = results.filter((r): r is ProductResult => isProduct(r) && r.kind === 'single')
  const batch = results.filter((r): r is ProductResult => isProduct(r) && r.kind === 'batch')
  const bare = results.filter(isBare)
  const medianRows: string[][] = []
  const productRow = (name: string, rs: ProductResult[]) => [
    name,
    String(rs.length),
    num(median(rs.map((r) => r.load.ok / r.load.loadSeconds))),
    num(median(rs.map((r) => r.load.events_accepted / r.load.loadSeconds))),
    ms(median(rs.map((r) => r.load.latency_us.p50))),
    ms(median(rs.map((r) => r.load.latency_us.p99))),
    num(median(rs.map((r) => r.load.non202))),
    num(median(rs.map((r) => r.drain.seconds)), 1),
    num(median(rs.map((r) => r.persistedPerSecond))),
    mb(median(rs.map((r) => r.rssPeak.api ?? NaN))),
  ]
  if (single.length) medianRows.push(productRow('single (POST /event)', single))
  if (bare.length) {
    medianRows.push([
      'bare Bun.serve',
      String(bare.length),
      num(median(bare.map((r) => r.load.ok / r.load.loadSeconds))),
      num(median(bare.map((r) => r.load.events_accepted / r.load.loadSeconds))),
      ms(median(bare.map((r) => r.load.latency_us.p50))),
      ms(median(bare.map((r) => r.load.latency_us.p99))),
      num(median(bare.map((r) => r.load.non202))),
      '-',
      '-',
      mb(median(bare.map((r) => r.rssPeak.bare ?? NaN))),
    ])
  }
  if (batch.length) medianRows.push(productRow(`batch (POST /events × ${options.batchSize})`, batch))
  if (medianRows.length) {
    say(`\nMedians over ${options.runs} run(s)`)
    say(table(['phase', 'runs', 'req/s 202', 'accepted ev/s', 'p50 ms', 'p99 ms', 'non-202', 'drain s', 'persisted ev/s', 'RSS peak'], medianRows))
  }
  if (single.length && bare.length) {
    const ratio = median(single.map((r) => r.load.ok / r.load.loadSeconds)) / median(bare.map((r) => r.load.ok / r.load.loadSeconds))
    say(`product / bare (median req/s, POST /event): ${num(ratio, 3)}  (${num(100 * ratio, 1)}% of what Bun.serve alone answers under the same wrk load)`)
  }
  for (const missing of results.filter((r): r is Unavailable => 'unavailable' in r)) say(`${missing.kind} run ${missing.run}: not measured — ${missing.unavailable}`)

  const rates = results.filter((r): r is ProductResult => isProduct(r) && r.kind === 'rate')
  if (rates.length) {
    const achievedOf = (r: ProductResult) => r.load.events_accepted / r.load.loadSeconds
    const rateRow = (label: string, rs: ProductResult[]) => {
      const achieved = median(rs.map(achievedOf))
      return [
        label,
        num(achieved),
        `${num((100 * achieved) / options.rate, 1)}%`,
        num(median(rs.map((r) => r.load.non202))),
        ms(median(rs.map((r) => r.load.latency_us.p50))),
        ms(median(rs.map((r) => r.load.latency_us.p99))),
        num(median(rs.map((r) => r.drain.seconds)), 1),
        num(median(rs.map((r) => r.lag.rows))),
        num(median(rs.map((r) => r.lag.p50Ms)), 1),
        num(median(rs.map((r) => r.lag.p99Ms)), 1),
        num(median(rs.map((r) => r.lag.maxMs)), 1),
        rs.length === 1 ? `${rs[0]!.check.verdict} ${num(rs[0]!.check.rows)}/${num(rs[0]!.check.expected)}` : rs.every((r) => r.check.verdict === 'OK') ? 'OK in every run' : 'see runs',
      ]
    }
    say(`\nConstant rate: target ${num(options.rate)} events/s for ${options.rateDuration} s (${options.rateBatch > 0 ? `POST /events × ${options.rateBatch}` : 'POST /event'})`)
    say(
      table(
        ['run', 'achieved accepted ev/s', 'of target', 'non-202', 'p50 ms', 'p99 ms', 'drain s', 'lag rows', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'exactly-once'],
        [...rates.map((r) => rateRow(String(r.run), [r])), ...(rates.length > 1 ? [rateRow('median', rates)] : [])],
      ),
    )
    const rate = rates[0]!
    say(
      rate.lag.endsAt === 'commit'
        ? 'lag = commit time of the row\'s transaction (pg_xact_commit_timestamp) − received_at, over every row of the phase\n' +
            '(percentile_cont); received_at is stamped by the API on receipt.'
        : 'lag = created_at − received_at over every row of the phase (percentile_cont); received_at is stamped by the API on receipt.\n' +
            '! Postgres runs with track_commit_timestamp = off, so the lag ends at created_at: now(), the start of the worker\'s\n' +
            '  transaction. Its rollups, ledger and commit come after and are not included. For the lag to the commit:\n' +
            '  ALTER SYSTEM SET track_commit_timestamp = on, then restart Postgres.',
    )
    const slowest = Math.min(...rates.map(achievedOf))
    if (slowest < 0.98 * options.rate) say(`! the target rate was not reached: the API answered ${num(slowest)} events/s at most with ${options.connections} connections`)
  }

  // Where the CPU went while wrk was loading (and, for the product, while the worker drained).
  const cpuRows: string[][] = []
  const cpuCell = (rs: { cpuLoad: Record<string, number> }[], key: string) => num(median(rs.map((r) => r.cpuLoad[key] ?? NaN)), 0)
  const drainCell = (rs: ProductResult[], key: string) => num(median(rs.map((r) => r.cpuDrain[key] ?? NaN)), 0)
  for (const [name, rs] of [['single', single], ['batch', batch], ['rate', rates]] as const) {
    if (rs.length === 0) continue
    cpuRows.push([`${name} load`, cpuCell(rs, 'api'), cpuCell(rs, 'worker'), cpuCell(rs, 'postgres'), cpuCell(rs, 'redis'), cpuCell(rs, 'wrk'), cpuCell(rs, 'machine')])
    cpuRows.push([`${name} drain`, drainCell(rs, 'api'), drainCell(rs, 'worker'), drainCell(rs, 'postgres'), drainCell(rs, 'redis'), '-', drainCell(rs, 'machine')])
  }
  if (bare.length) cpuRows.push(['bare load', cpuCell(bare, 'bare'), '-', '-', '-', cpuCell(bare, 'wrk'), cpuCell(bare, 'machine')])
  if (cpuRows.length) {
    say(`\nCPU (% of one core, medians; ${navigator.hardwareConcurrency} cores = ${100 * navigator.hardwareConcurrency}%; "machine" = busy % of all cores; postgres = every server process)`)
    say(table(['window', 'API', 'worker', 'postgres', 'redis', 'wrk', 'machine'], cpuRows))
  }

  const products = results.filter(isProduct)
  const redisRows = products.map((r) => [
    `${r.kind} ${r.run}`,
    mb(r.redis.idle),
    mb(r.redis.afterDrain),
    pct((100 * (r.redis.afterDrain - r.redis.idle)) / r.redis.idle),
    mb(r.redis.queueKeys),
  ])
  if (redisRows.length) {
    say('\nRedis INFO memory used_memory (whole server, shared with other users), idle (after the warm-up had drained) vs after the drain')
    say(table(['phase', 'idle', 'after drain', 'difference', `bull:${options.queue}:* keys after drain`], redisRows))
  }

  const withActivity = (['single', 'batch', 'rate'] as const).map((kind) => [kind, products.filter((r) => r.kind === kind)] as const).filter(([, rs]) => rs.length > 0)
  if (withActivity.length) {
    say('\nQueue and database activity during load + drain (medians over runs; Postgres: average number of product sessions busy, by wait event · statement, top 5)')
    for (const [kind, rs] of withActivity) {
      say(`${kind}: ${num(median(rs.map((r) => r.jobs)))} jobs, ${num(median(rs.map((r) => r.check.expected / r.jobs)), 1)} events/job, peak ${num(median(rs.map((r) => r.activity.peakWaitingJobs)))} jobs waiting in Redis`)
      const waits = new Map<string, number>()
      let samples = 0
      for (const r of rs) {
        samples += r.activity.samples
        for (const [what, n] of Object.entries(r.activity.waits)) waits.set(what, (waits.get(what) ?? 0) + n)
      }
      for (const [what, n] of [...waits].sort((a, b) => b[1] - a[1]).slice(0, 5)) say(`  ${num(n / samples, 2).padStart(6)}  ${what}`)
    }
  }

  // Non-202 answers are the product's choice (503 backpressure, 429, 400): say which and why.
  const refusing = results.filter((r): r is ProductResult | BareResult => !('unavailable' in r) && r.load.non202 > 0)
  if (refusing.length) {
    say('\nNon-202 answers (accepted ev/s of these phases counts 202s only, over the whole load window)')
    for (const r of refusing) {
      const statuses = Object.entries(r.load.statuses).map(([code, n]) => `${code}×${num(n)}`).join(' ')
      say(`  ${r.kind} run ${r.run}: ${statuses}; first: ${r.load.refusal_sample?.replaceAll('\n', ' ') ?? '-'}`)
    }
  }

  const violated = products.filter((r) => r.check.verdict === 'VIOLATED')
  const unverified = products.filter((r) => r.check.verdict === 'UNVERIFIED')
  for (const r of unverified) {
    say(`\n! ${r.kind} run ${r.run}: exactly-once UNVERIFIED — only ${num(r.check.rows)} of ${num(r.check.expected)} accepted events were stored after the ${num(r.drain.seconds, 0)} s drain limit (--drain-timeout)`)
  }
  if (violated.length > 0) {
    say(`\n✗ EXACTLY-ONCE VIOLATED in ${violated.map((r) => `${r.kind} run ${r.run}`).join(', ')}:`)
    for (const r of violated) say(`  ${r.kind} ${r.run}: ${JSON.stringify(r.check)}`)
  } else if (unverified.length === 0 && products.length > 0) {
    say('\n✓ exactly-once held in every product phase: rows == events answered 202, no duplicate event_id, no failed job')
  }
  return violated.length === 0
}

// ------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(Bun.argv.slice(2))
  if (!options) return 0
  const wrk = findWrk()
  const logDir = mkdtempSync(join(tmpdir(), 'bench-ingest-'))
  const bench: Bench = {
    options,
    wrk,
    db: new BenchDatabase(options.adminUrl, options.database),
    redis: new BenchRedis(options.redisUrl, options.queue),
    redisPid: undefined,
    logDir,
    children: new Set(),
  }

  // Ctrl-C / SIGTERM: stop what we started, then leave.
  const onSignal = (signal: NodeJS.Signals) => {
    say(`\n${signal}: stopping the benchmark's processes`)
    killRunningWrk()
    void Promise.all([...bench.children].map((child) => child.stop()))
      .then(() => bench.redis.deleteQueueKeys())
      .catch(() => {})
      .finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const results: PhaseResult[] = []
  let ok = false
  try {
    await bench.redis.connect()
    bench.redisPid = await bench.redis.pid()
    // Taken once: each phase starts the API and worker afresh, so edits made meanwhile are picked up.
    const revision = describeRevision()
    // Others share this machine: what it is busy with before we start is part of the picture.
    const idleMeter = new CpuMeter(() => ({})).start()
    await Bun.sleep(2_000)
    const background = `machine busy before start (others' processes): ${num(idleMeter.stop().machine ?? NaN, 0)}% of all cores`
    say(`Logs of the API, worker and bare server: ${logDir}\n${revision}\n${background}`)
    let batchAvailable = true
    for (let run = 1; run <= options.runs; run++) {
      if (options.phases.has('single')) results.push(await productPhase(bench, 'single', run))
      if (options.phases.has('bare')) results.push(await barePhase(bench, run))
      if (options.phases.has('batch') && batchAvailable) {
        const result = await productPhase(bench, 'batch', run)
        results.push(result)
        batchAvailable = !('unavailable' in result)
      }
    }
    // The constant-rate phase is repeated like the others, so its lag is a median of runs too.
    if (options.phases.has('rate')) for (let run = 1; run <= options.runs; run++) results.push(await productPhase(bench, 'rate', run))
    ok = printSummary(options, results, `${revision}; ${background}`)
  } finally {
    killRunningWrk()
    await stopChildren(bench, [...bench.children])
    await bench.redis.deleteQueueKeys().catch(() => {})
    await bench.redis.close()
    await bench.db.close()
  }
  if (ok) rmSync(logDir, { recursive: true, force: true })
  else say(`Logs kept in ${logDir}`)
  return ok ? 0 : 1
}

try {
  process.exit(await main())
} catch (error) {
  // Expected failures get their message; anything else its stack too.
  const known = error instanceof UsageError || error instanceof WrkMissingError || error instanceof ProcessDiedError
  console.error(`\n✗ benchmark failed: ${known ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exit(1)
}
