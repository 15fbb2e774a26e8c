/**
 * Test harness on real services: every test file gets its own Postgres database (migrated, then
 * dropped) and its own BullMQ queue name and prefix (obliterated afterwards).
 */
import { resolve } from 'node:path'
import type postgres from 'postgres'
import { createDb, type Database } from '../drizzle/client'
import { silentLogger } from '../lib/log'
import { LOGIN_GUESSES } from '../server/access'
import { createApp, type App } from '../server/app'
import { NO_PROXY, type ProxyTrust } from '../server/client-address'
import type { RateLimit } from '../server/rate-limit'
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../server/ingest/queue'
import { NO_RATE_LIMITS, type IngestRateLimits } from '../server/ingest/routes'
import type { RedisTarget } from '../lib/config'
import {
  createIngestQueue,
  createMaintenanceQueue,
  createProducerConnection,
  createWorkerConnection,
  type IngestQueue,
  type QueueLocation,
  type RedisConnection,
} from '../lib/queue'
import { createWorkerMetrics, type WorkerMetrics } from '../worker/metrics'
import { createIngestWorker, type AnalyticsWorker, type Prefetch } from '../worker/worker'
import { loadTestEnv } from './env'
import { createMigratedDatabase, deleteKeys, dropDatabase, uniqueName } from './kit/fixtures'

export const testEnv = loadTestEnv()

// Test files (some beside the code they test) import it from here.
export { uniqueName }

export interface TestDatabase extends Database {
  url: string
  drop(): Promise<void>
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueName(`test_${label}`)
  const url = await createMigratedDatabase(testEnv.adminDatabaseUrl, name)
  const database = createDb(url, { max: 8 })
  return {
    ...database,
    url,
    async drop() {
      await database.close()
      await dropDatabase(testEnv.adminDatabaseUrl, name)
    },
  }
}

/** Resolves when each given job id has completed; rejects when one has failed for good. */
export class JobTracker {
  private completed = new Set<string>()
  private failed = new Map<string, Error>()
  private waiters = new Set<() => void>()

  constructor(worker: AnalyticsWorker) {
    worker.on('completed', (job) => this.settle(() => this.completed.add(job.id!)))
    worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) this.settle(() => this.failed.set(job.id!, error))
    })
  }

  private settle(record: () => void) {
    record()
    for (const wake of this.waiters) wake()
  }

  wait(jobIds: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const failure = jobIds.find((id) => this.failed.has(id))
        if (failure) {
          this.waiters.delete(check)
          reject(this.failed.get(failure))
        } else if (jobIds.every((id) => this.completed.has(id))) {
          this.waiters.delete(check)
          resolve()
        }
      }
      this.waiters.add(check)
      check()
    })
  }
}

export interface Stack {
  baseUrl: string
  app: App
  /** Sends in-flight batches and writes buffered ledger counts. */
  flush(): Promise<void>
  database: TestDatabase
  queue: IngestQueue
  location: QueueLocation
  admin: { user: string; password: string }
  /** Headers that authenticate as the admin (HTTP Basic). */
  adminHeaders: Record<string, string>
  jobs: JobTracker
  worker: AnalyticsWorker
  workerMetrics: WorkerMetrics
  producer: RedisConnection
  /** POST a JSON body (or a raw string) to the API. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>
  get(path: string, headers?: Record<string, string>): Promise<Response>
  /** Posts events through POST /events and waits until the worker has written them. */
  store(events: unknown[]): Promise<void>
  close(): Promise<void>
}

/** The API (listening on a free port) and a worker, both in this process, on their own queue and database. */
export interface StackOptions {
  ingestLimits?: Partial<IngestLimits>
  /** A built dashboard to serve at `/` (none by default). */
  dashboardDir?: string
  /** Set to require a bearer key on stats reads. */
  statsApiKey?: string
  /** Whether loopback callers may read stats without a key while none is set (on by default, as in the product). */
  loopbackReads?: boolean
  /** Whether X-Forwarded-For is believed (off by default). */
  proxy?: ProxyTrust
  /** Off unless given. */
  rateLimits?: IngestRateLimits
  /** What the worker holds at once (50 jobs, 40,000 events by default). */
  workerPrefetch?: Prefetch
  /** COUNTRY_HEADER (none by default). */
  countryHeader?: string
  /** Failed sign-ins per address (the product's default unless given). */
  loginGuesses?: RateLimit
  /** A migrated database elsewhere (a private cluster) instead of a new one on the shared Postgres; close() calls its drop(). */
  database?: TestDatabase
  /** STATS_DATABASE_URL's pool (a replica) for the reads; the caller closes it. */
  reads?: Database
  /** The Redis (or Redis Cluster) to queue on; the test environment's by default. */
  redis?: RedisTarget
}

export async function startStack(label: string, options: StackOptions = {}): Promise<Stack> {
  const database = options.database ?? (await createTestDatabase(label))
  const location: QueueLocation = { name: uniqueName(label), prefix: uniqueName('testq') }
  const redis = options.redis ?? testEnv.redis
  const producer = createProducerConnection(redis)
  const queue = createIngestQueue(producer, location)
  const maintenanceQueue = createMaintenanceQueue(producer, location)
  await queue.waitUntilReady()
  const admin = { user: 'admin', password: uniqueName('pw') }
  const proxy = options.proxy ?? NO_PROXY
  const access = {
    ...admin,
    statsApiKey: options.statsApiKey,
    loopbackReads: options.loopbackReads ?? true,
    behindProxy: proxy.trustProxy,
    loginGuesses: options.loginGuesses ?? LOGIN_GUESSES,
  }
  const { app, flush, shutdown } = await createApp({
    database,
    reads: options.reads,
    redis: producer,
    queue,
    maintenanceQueue,
    access,
    proxy,
    dashboardDir: options.dashboardDir ?? '/nonexistent',
    ingestLimits: { ...DEFAULT_INGEST_LIMITS, ...options.ingestLimits },
    rateLimits: options.rateLimits ?? NO_RATE_LIMITS,
    countryHeader: options.countryHeader ?? null,
    log: silentLogger,
  })
  // Bun's development mode answers an uncaught error with an HTML page of source and stack.
  app.listen({ port: 0, development: false })
  const baseUrl = `http://127.0.0.1:${app.server!.port}`

  const workerConnection = createWorkerConnection(redis)
  const workerMetrics = createWorkerMetrics()
  const worker = createIngestWorker({
    metrics: workerMetrics,
    connection: workerConnection,
    location,
    db: database.db,
    prefetch: options.workerPrefetch ?? { jobs: 50, events: 40_000 },
    writer: { transactions: 2, maxBatchEvents: 5_000 },
    log: silentLogger,
  })
  const jobs = new JobTracker(worker)

  return {
    baseUrl,
    app,
    flush,
    database,
    queue,
    location,
    admin,
    adminHeaders: { authorization: `Basic ${btoa(`${admin.user}:${admin.password}`)}` },
    jobs,
    worker,
    workerMetrics,
    producer,
    post: (path, body, headers = { 'content-type': 'application/json' }) =>
      fetch(baseUrl + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    get: (path, headers = {}) => fetch(baseUrl + path, { headers }),
    async store(events) {
      const response = await fetch(`${baseUrl}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) })
      if (response.status !== 202) throw new Error(`POST /events answered ${response.status}: ${await response.text()}`)
      await jobs.wait([((await response.json()) as { jobId: string }).jobId])
    },
    async close() {
      await shutdown()
      await worker.close()
      await Promise.all([queue.obliterate({ force: true }), maintenanceQueue.obliterate({ force: true })])
      // Obliterate leaves these.
      await deleteKeys(producer, `${queue.toKey('visitor-salt')}:*`)
      await deleteKeys(producer, `${queue.toKey('rate')}:*`)
      await Promise.all([queue.close(), maintenanceQueue.close()])
      await Promise.all([producer.quit(), workerConnection.quit()])
      await database.drop()
    },
  }
}

/** Counts rows of one site straight from the raw table (the oracle for the API's answers). */
export async function countEvents(database: Database, siteId: string): Promise<number> {
  const [row] = await database.sql<{ count: number }[]>`select count(*)::int as count from events where site_id = ${siteId}`
  return row!.count
}

/** SQL fragment rendering events.timestamp as an ISO 8601 UTC string with milliseconds. */
export const isoUtc = (sql: postgres.Sql) => sql.unsafe(`to_char(timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`)

/** Runs `bun run rollups:rebuild --site <site>` against the stack's database, as an operator would; fails with its stderr. */
export async function rebuildFromCli(stack: Stack, site: string): Promise<void> {
  const run = Bun.spawn(['bun', 'run', 'rollups:rebuild', '--site', site], {
    cwd: resolve(import.meta.dir, '..'),
    env: { ...process.env, DATABASE_URL: stack.database.url },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stderr] = await Promise.all([run.exited, new Response(run.stderr).text()])
  if (code !== 0) throw new Error(`rollups:rebuild exited ${code}: ${stderr}`)
}
