import { parseArgs } from 'node:util'

export const PHASES = ['single', 'bare', 'batch', 'rate'] as const
export type PhaseName = (typeof PHASES)[number]

export interface BenchOptions {
  /** Repetitions of the single, bare and batch phases; medians are reported. */
  runs: number
  /** Seconds of load per single/bare/batch phase. */
  duration: number
  /** Seconds of unmeasured load before each measured one, so the JIT and the pools are warm. */
  warmup: number
  threads: number
  connections: number
  /** Events per POST /events request in batch mode. */
  batchSize: number
  /** Constant-rate phase: target events per second, duration, and events per request (0 = POST /event). */
  rate: number
  rateDuration: number
  rateBatch: number
  /** Give up waiting for the worker to persist every accepted event after this many seconds. */
  drainTimeout: number
  /** WORKER_CONCURRENCY for the worker; undefined leaves the product default. */
  workerConcurrency: number | undefined
  /** Worker processes sharing the queue. */
  workers: number
  /** Events carry the visit fields (user agent, referrer, UTM tags, screen width, address or country). */
  visitFields: boolean
  phases: ReadonlySet<PhaseName>
  adminUrl: string
  redisUrl: string
  database: string
  queue: string
}

const USAGE = `Usage: bun bench/ingest.ts [options]

  --runs <n>                 repetitions of every phase, medians reported (default 3)
  --duration <s>             seconds of load per single/bare/batch phase (default 15)
  --warmup <s>               unmeasured warm-up load before each phase (default 2)
  --quick                    smoke run: --runs 1 --duration 3 --warmup 1 --rate-duration 3
  --threads <n>              wrk threads (default 2)
  --connections <n>          wrk connections (default 64)
  --batch-size <n>           events per POST /events request (default 100)
  --rate <events/s>          constant-rate phase target (default 10000)
  --rate-duration <s>        constant-rate phase length (default 30)
  --rate-batch <n>           events per request in the constant-rate phase; 0 = POST /event (default 0)
  --drain-timeout <s>        max wait for the worker to persist everything (default 300)
  --worker-concurrency <n>   WORKER_CONCURRENCY for the worker (default: unset, the product default)
  --workers <n>              worker processes sharing the queue (default 1)
  --visit-fields <on|off>    events carry a real browser's user agent, a referrer, UTM tags (a fifth), a screen
                             width, a public address or a country, one profile per user (default on)
  --phases <list>            comma-separated subset of ${PHASES.join(',')} (default all)
  --pg-admin-url <url>       superuser connection (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url <url>          (default redis://127.0.0.1:6379)
  -h, --help`

export class UsageError extends Error {
  override name = 'UsageError'
}

function positive(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`)
  }
  return value
}

function integer(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  const value = positive(name, raw, fallback, allowZero)
  if (!Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`)
  return value
}

/** Returns undefined when --help was asked for (after printing the usage). */
export function parseOptions(argv: string[]): BenchOptions | undefined {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        runs: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        quick: { type: 'boolean' },
        threads: { type: 'string' },
        connections: { type: 'string' },
        'batch-size': { type: 'string' },
        rate: { type: 'string' },
        'rate-duration': { type: 'string' },
        'rate-batch': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'worker-concurrency': { type: 'string' },
        workers: { type: 'string' },
        'visit-fields': { type: 'string' },
        phases: { type: 'string' },
        'pg-admin-url': { type: 'string' },
        'redis-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`)
  }
  const v = parsed.values
  if (v.help) {
    console.log(USAGE)
    return undefined
  }
  const quick = v.quick === true
  const phases = new Set<PhaseName>()
  for (const name of (v.phases ?? PHASES.join(',')).split(',').map((s) => s.trim())) {
    if (!(PHASES as readonly string[]).includes(name)) throw new UsageError(`--phases: unknown phase "${name}" (known: ${PHASES.join(', ')})`)
    phases.add(name as PhaseName)
  }
  const visitFields = v['visit-fields'] ?? 'on'
  if (visitFields !== 'on' && visitFields !== 'off') throw new UsageError(`--visit-fields must be on or off, got "${visitFields}"`)
  const options: BenchOptions = {
    runs: integer('runs', v.runs, quick ? 1 : 3),
    duration: positive('duration', v.duration, quick ? 3 : 15),
    warmup: positive('warmup', v.warmup, quick ? 1 : 2, true),
    threads: integer('threads', v.threads, 2),
    connections: integer('connections', v.connections, 64),
    batchSize: integer('batch-size', v['batch-size'], 100),
    rate: positive('rate', v.rate, 10_000),
    rateDuration: positive('rate-duration', v['rate-duration'], quick ? 3 : 30),
    rateBatch: integer('rate-batch', v['rate-batch'], 0, true),
    drainTimeout: positive('drain-timeout', v['drain-timeout'], 300),
    workerConcurrency: v['worker-concurrency'] === undefined ? undefined : integer('worker-concurrency', v['worker-concurrency'], 0),
    workers: integer('workers', v.workers, 1),
    visitFields: visitFields === 'on',
    phases,
    adminUrl: v['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: v['redis-url'] ?? 'redis://127.0.0.1:6379',
    database: 'analytics_bench',
    queue: 'bench-events',
  }
  if (options.connections < options.threads) throw new UsageError('--connections must be at least --threads')
  if (options.batchSize > 1000) throw new UsageError('--batch-size must be at most 1000 (the POST /events limit)')
  return options
}
