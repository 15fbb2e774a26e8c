/**
 * Fault-injection harness: private PostgreSQL and Redis instances owned by the test (so they can
 * be killed and restarted without touching the machine's shared services), the API and the worker
 * as real child processes, and the bounded waits and exactly-once checks the scenarios share.
 *
 * Nothing here sleeps for a fixed time and hopes: every wait is for a process exit, a log line, an
 * HTTP answer or a database/queue state, always with a deadline that names what was awaited.
 */
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import IORedis, { Cluster } from 'ioredis'
import postgres from 'postgres'
import type { RedisTarget } from '../../lib/config'
import { createIngestQueue, type IngestQueue, type RedisConnection } from '../../lib/queue'
import { createMigratedDatabase, uniqueName } from '../kit/fixtures'
import {
  API_COMMAND,
  apiEnv,
  awaitLine,
  Fatal,
  freePort,
  onExit,
  pollUntil,
  runToEnd,
  WatchedProcess,
  withDeadline,
  WORKER_COMMAND,
  workerEnv,
  type StackEnv,
} from '../kit/processes'

// The scenarios import everything from here.
export { awaitLine, Fatal, freePort, LineWatcher, pollUntil, ROOT, withDeadline, type StackEnv } from '../kit/processes'
export { uniqueName } from '../kit/fixtures'

const PG_BIN = '/usr/lib/postgresql/15/bin'

// ---------------------------------------------------------------------------------------------
// Child processes

export type ManagedProcess = WatchedProcess

const managed: { seq: number; process: ManagedProcess; service: boolean }[] = []
let spawnSeq = 0

/** A mark to pass to `spawnedSince`. */
export const spawnMark = () => spawnSeq

/**
 * Product processes (not the private services) started after `mark` and still running, for
 * cleanup after a failure.
 */
export function spawnedSince(mark: number): ManagedProcess[] {
  return managed.filter((m) => m.seq > mark && !m.service && m.process.running).map((m) => m.process)
}

export function spawnManaged(name: string, cmd: string[], env: Record<string, string>, service = false): ManagedProcess {
  const echo = process.env.FAULTS_ECHO ? (line: string) => console.log(`[${name}] ${line}`) : undefined
  const child = WatchedProcess.start(name, cmd, { env, echo })
  const seq = ++spawnSeq
  managed.push({ seq, process: child, service })
  void child.exited.then(() =>
    managed.splice(
      managed.findIndex((m) => m.seq === seq),
      1,
    ),
  )
  return child
}

/** Runs a command to its end; throws with its output when it fails or outlives `ms`. */
export async function run(cmd: string[], ms = 60_000, env: Record<string, string> = {}): Promise<string> {
  const { code, signal, output } = await runToEnd(cmd, { ms, env })
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited ${signal ?? code}:\n${output}`)
  return output
}

// ---------------------------------------------------------------------------------------------
// Private PostgreSQL

/** A throwaway cluster on its own port, run by the postgres OS user (initdb refuses root). */
export class PrivatePostgres {
  private running = false
  private readonly admins = new Set<postgres.Sql>()
  private readonly removeExitHook = onExit(() => {
    if (this.running) Bun.spawnSync(['runuser', '-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-m', 'immediate', '-w', 'stop'])
    rmSync(this.baseDir, { recursive: true, force: true })
  })

  private constructor(
    readonly baseDir: string,
    readonly port: number,
    /** Set: password (scram) authentication, as in the postgres image, instead of trust. */
    readonly superuserPassword?: string,
    /** Server settings over the defaults of `start` (which favour speed over durability). */
    private readonly settings: Record<string, string> = {},
  ) {}

  get dataDir(): string {
    return join(this.baseDir, 'data')
  }

  /** Superuser URL for `database` (trust authentication on loopback, unless a password was set). */
  url(database = 'postgres'): string {
    const password = this.superuserPassword ? `:${encodeURIComponent(this.superuserPassword)}` : ''
    return `postgres://postgres${password}@127.0.0.1:${this.port}/${database}`
  }

  /** A temporary folder the postgres OS user owns, and that user's ids. */
  private static async ownedDir(): Promise<{ baseDir: string; uid: number; gid: number }> {
    const baseDir = mkdtempSync(join(tmpdir(), 'faults-pg-'))
    const uid = Number((await run(['id', '-u', 'postgres'])).trim())
    const gid = Number((await run(['id', '-g', 'postgres'])).trim())
    chownSync(baseDir, uid, gid)
    return { baseDir, uid, gid }
  }

  static async create(options: { superuserPassword?: string; settings?: Record<string, string> } = {}): Promise<PrivatePostgres> {
    const { baseDir, uid, gid } = await PrivatePostgres.ownedDir()
    const pg = new PrivatePostgres(baseDir, freePort(), options.superuserPassword, options.settings)
    let auth = ['-A', 'trust']
    if (options.superuserPassword) {
      const pwfile = join(baseDir, 'pwfile')
      writeFileSync(pwfile, options.superuserPassword)
      chownSync(pwfile, uid, gid)
      auth = ['-A', 'scram-sha-256', '--pwfile', pwfile]
    }
    try {
      await run(
        ['runuser', '-u', 'postgres', '--', `${PG_BIN}/initdb`, '-D', pg.dataDir, ...auth, '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C'],
        120_000,
      )
      await pg.start()
    } catch (error) {
      await pg.destroy()
      throw error
    }
    return pg
  }

  /**
   * A hot standby of `primary` on its own port: `pg_basebackup -R` (which writes standby.signal and
   * the primary's conninfo) into a temporary folder, then started like any private cluster. It
   * streams from the primary and answers read-only queries; resolves once it is in recovery.
   */
  static async replicaOf(primary: PrivatePostgres): Promise<PrivatePostgres> {
    if (primary.superuserPassword) throw new Error('replicaOf needs a primary with trust authentication')
    const { baseDir } = await PrivatePostgres.ownedDir()
    const replica = new PrivatePostgres(baseDir, freePort(), undefined, primary.settings)
    try {
      await run(
        ['runuser', '-u', 'postgres', '--', `${PG_BIN}/pg_basebackup`, '-R', '-D', replica.dataDir, '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '--no-sync', '-X', 'stream'],
        120_000,
      )
      await replica.start()
      const sql = replica.admin()
      await pollUntil('the replica to be in recovery', async () => (await sql<{ standby: boolean }[]>`select pg_is_in_recovery() as standby`)[0]!.standby, 30_000)
    } catch (error) {
      await replica.destroy()
      throw error
    }
    return replica
  }

  async start(): Promise<void> {
    const settings = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200', ...this.settings }
    const options = [`-p ${this.port} -k ${this.baseDir} -c listen_addresses=127.0.0.1`, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ')
    await run(
      [
        'runuser',
        '-u',
        'postgres',
        '--',
        `${PG_BIN}/pg_ctl`,
        '-D',
        this.dataDir,
        '-l',
        join(this.baseDir, 'server.log'),
        '-o',
        options,
        '-w',
        '-t',
        '60',
        'start',
      ],
      90_000,
    )
    this.running = true
  }

  /** `fast`: clean shutdown, aborting open transactions; `immediate`: like a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await run(['runuser', '-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop'], 90_000)
    this.running = false
  }

  /** A connection pool for assertions; closed by destroy(). */
  admin(database = 'postgres'): postgres.Sql {
    const sql = postgres(this.url(database), { max: 2, onnotice: () => {}, connect_timeout: 5 })
    this.admins.add(sql)
    return sql
  }

  /** A new, migrated database. */
  async createDatabase(label: string): Promise<{ name: string; url: string; sql: postgres.Sql }> {
    const name = uniqueName(label)
    const url = await createMigratedDatabase(this.url(), name)
    return { name, url, sql: this.admin(name) }
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.admins].map((sql) => sql.end({ timeout: 1 }).catch(() => {})))
    this.admins.clear()
    try {
      if (this.running) await this.stop('immediate')
    } finally {
      rmSync(this.baseDir, { recursive: true, force: true })
      this.removeExitHook()
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Private Redis

/** A Redis a test owns: one server or a cluster, which it can kill (an outage) and start again, empty. */
export interface TestRedis {
  /** What the product is pointed at (REDIS_URL, and REDIS_CLUSTER_NODES for a cluster). */
  readonly target: RedisTarget
  start(): Promise<void>
  kill(signal?: NodeJS.Signals): Promise<void>
  /** A client for the test's own checks; reconnects after an outage, never throws unhandled. */
  client(): RedisConnection
  destroy(): Promise<void>
}

/** The options of a test's own client: one retry, reconnecting within half a second once Redis is back. */
const CHECK_CLIENT = { maxRetriesPerRequest: 1, connectTimeout: 2_000 }
const checkClientRetry = (times: number) => Math.min(times * 50, 500)

const redisServerArgs = (port: number) => ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no']

export class PrivateRedis implements TestRedis {
  readonly port = freePort()
  private server: ManagedProcess | undefined

  /** `password`: the server requires it (requirepass), as in docker-compose. */
  constructor(readonly password?: string) {}

  get url(): string {
    return this.password ? `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`
  }

  get target(): RedisTarget {
    return { url: this.url }
  }

  /** Starts (or restarts, on the same port, empty) a server without persistence. */
  async start(): Promise<void> {
    const args = redisServerArgs(this.port)
    if (this.password) args.push('--requirepass', this.password)
    this.server = spawnManaged('redis', args, {}, true)
    await awaitLine(this.server, 'Ready to accept connections', 30_000)
  }

  /** Kills the server (SIGKILL by default: an outage, not a shutdown) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.server?.stop(signal)
    this.server = undefined
  }

  client(): IORedis {
    const redis = new IORedis(this.url, { ...CHECK_CLIENT, retryStrategy: checkClientRetry })
    redis.on('error', () => {})
    return redis
  }

  async destroy(): Promise<void> {
    await this.kill().catch(() => {})
  }
}

/**
 * A Redis Cluster of three masters without replicas on free ports, its node files in a temporary
 * folder (removed by destroy). Killed and started again, the nodes come back empty, from their
 * node files, as the same cluster.
 */
/** A free port whose cluster bus port, 10,000 above it, is free too (and below 65,536): a cluster node listens on both. */
function freeClusterPort(taken: number[]): number {
  for (;;) {
    const port = freePort()
    if (port + 10_000 > 65_535 || taken.includes(port)) continue
    try {
      Bun.listen({ hostname: '127.0.0.1', port: port + 10_000, socket: { data() {} } }).stop(true)
      return port
    } catch {}
  }
}

export class PrivateRedisCluster implements TestRedis {
  readonly ports: number[] = []
  private readonly dir = mkdtempSync(join(tmpdir(), 'faults-redis-cluster-'))
  private readonly servers = new Map<number, ManagedProcess>()
  private created = false
  private readonly removeExitHook = onExit(() => rmSync(this.dir, { recursive: true, force: true }))

  constructor() {
    for (let node = 0; node < 3; node++) this.ports.push(freeClusterPort(this.ports))
  }

  get target(): RedisTarget {
    return { url: `redis://127.0.0.1:${this.ports[0]}`, clusterNodes: this.ports.map((port) => ({ host: '127.0.0.1', port })) }
  }

  /** Starts the nodes; the first time, makes them one cluster; resolves once every node reports cluster_state:ok. */
  async start(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.startNode(port)))
    if (!this.created) {
      await run(['redis-cli', '--cluster', 'create', ...this.ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], 60_000)
      this.created = true
    }
    await this.awaitClusterOk()
  }

  /** Starts the node on `port` again (empty, from its node file) and waits until the cluster is whole. */
  async restartNode(port: number): Promise<void> {
    await this.startNode(port)
    await this.awaitClusterOk()
  }

  /** Kills (SIGKILL) the master that holds `key`'s hash slot, an outage of part of the cluster; returns its port. */
  async killMasterOf(key: string): Promise<number> {
    const node = new IORedis(this.ports[0]!, '127.0.0.1', CHECK_CLIENT)
    try {
      const slot = (await node.cluster('KEYSLOT', key)) as number
      const ranges = await node.cluster('SLOTS')
      const port = ranges.find(([first, last]) => slot >= first && slot <= last)![2]![1]
      await this.servers.get(port)!.stop('SIGKILL')
      this.servers.delete(port)
      return port
    } finally {
      node.disconnect()
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.stop(signal)))
    this.servers.clear()
  }

  private async startNode(port: number): Promise<void> {
    // A node missing for 2 s (not the default 15) is failed by the others, so partial outages show at once.
    const args = [...redisServerArgs(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--dir', this.dir]
    const server = spawnManaged(`redis-cluster-${port}`, args, {}, true)
    this.servers.set(port, server)
    await awaitLine(server, 'Ready to accept connections', 30_000)
  }

  private async awaitClusterOk(): Promise<void> {
    const nodes = this.ports.map((port) => new IORedis(port, '127.0.0.1', { ...CHECK_CLIENT, lazyConnect: true }))
    try {
      await pollUntil(
        'every node of the cluster to report cluster_state:ok',
        async () => (await Promise.all(nodes.map((node) => node.cluster('INFO')))).every((info) => info.includes('cluster_state:ok')),
        30_000,
        100,
      )
    } finally {
      for (const node of nodes) node.disconnect()
    }
  }

  client(): Cluster {
    const redis = new Cluster(this.target.clusterNodes!, { clusterRetryStrategy: checkClientRetry, redisOptions: CHECK_CLIENT })
    redis.on('error', () => {})
    return redis
  }

  async destroy(): Promise<void> {
    await this.kill().catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
    this.removeExitHook()
  }
}

// ---------------------------------------------------------------------------------------------
// The product's processes

/** `bun server/index.ts` on `port`; resolves once it logs that it listens. */
export async function startApi(env: StackEnv, port: number, label = 'api', extraEnv: Record<string, string> = {}): Promise<ManagedProcess> {
  const api = spawnManaged(label, API_COMMAND, apiEnv(env, port, { ADMIN_PASSWORD: 'faults-admin', ...extraEnv }))
  await awaitLine(api, '"api listening"', 60_000).catch(async (error) => {
    await api.stop('SIGKILL').catch(() => {})
    throw error
  })
  return api
}

/** `bun worker/index.ts`; resolves once it logs that it started. */
export async function startWorker(env: StackEnv, label = 'worker', concurrency = 4): Promise<ManagedProcess> {
  const worker = spawnManaged(label, WORKER_COMMAND, workerEnv(env, { WORKER_CONCURRENCY: String(concurrency) }))
  await awaitLine(worker, '"worker started"', 60_000).catch(async (error) => {
    await worker.stop('SIGKILL').catch(() => {})
    throw error
  })
  return worker
}

/** Stops processes that may still run: SIGTERM, then SIGKILL if one does not exit in time. */
export async function stopAll(processes: (ManagedProcess | undefined)[]): Promise<void> {
  await Promise.all(processes.map((p) => p?.stop('SIGTERM', 15_000).catch(() => {})))
}

// ---------------------------------------------------------------------------------------------
// Queue and database checks

export class QueueProbe {
  readonly redis: RedisConnection
  readonly queue: IngestQueue

  constructor(
    redis: TestRedis,
    readonly name: string,
  ) {
    this.redis = redis.client()
    this.queue = createIngestQueue(this.redis, { name })
    this.queue.on('error', () => {})
  }

  /** Jobs not finished yet (waiting, active, delayed, prioritized) and failed for good. */
  async counts(): Promise<{ pending: number; failed: number; raw: Record<string, number> }> {
    const raw = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed')
    const pending = (raw.waiting ?? 0) + (raw.active ?? 0) + (raw.delayed ?? 0) + (raw.prioritized ?? 0) + (raw['waiting-children'] ?? 0)
    return { pending, failed: raw.failed ?? 0, raw }
  }

  /** Reasons of jobs that failed for good, for error messages. */
  async failedReasons(): Promise<string[]> {
    const jobs = await this.queue.getFailed(0, 20)
    return jobs.map(
      (job) => `job ${job.id} (${job.data && 'events' in job.data ? job.data.events.length : '?'} events, ${job.attemptsMade} attempts): ${job.failedReason}`,
    )
  }

  /** Removes the queue's keys (bounded: Redis may be down) and disconnects. */
  async close(): Promise<void> {
    await withDeadline(this.queue.obliterate({ force: true }), 10_000, 'obliterate').catch(() => {})
    await withDeadline(this.queue.close(), 5_000, 'queue close').catch(() => {})
    this.redis.disconnect()
  }
}

/**
 * Waits until the queue has nothing left to do and every acknowledged event is a row, then fails
 * if any job failed for good. Each poll awaits its queries; nothing overlaps.
 */
export async function awaitDrained(
  probe: QueueProbe,
  sql: postgres.Sql,
  siteId: string,
  acknowledged: Set<string>,
  timeoutMs: number,
  alive: ManagedProcess[] = [],
): Promise<void> {
  const ids = [...acknowledged]
  let lastState = ''
  try {
    await pollUntil(
      'the queue to drain and every acknowledged event to be stored',
      async () => {
        assertAlive(alive)
        const { pending, failed, raw } = await probe.counts()
        if (failed > 0) throw new Fatal(`jobs failed for good: ${JSON.stringify(raw)}`)
        const [row] = await sql<{ stored: number }[]>`select count(*)::int as stored from events where site_id = ${siteId} and event_id = any(${ids}::text[])`
        lastState = `queue ${JSON.stringify(raw)}, ${row!.stored}/${ids.length} acknowledged events stored`
        return pending === 0 && row!.stored === ids.length
      },
      timeoutMs,
      100,
    )
  } catch (error) {
    if (error instanceof Fatal && !error.message.startsWith('jobs failed')) throw error
    const { failed } = await probe.counts().catch(() => ({ failed: 0 }))
    const reasons = failed > 0 ? `\nfailed jobs:\n${(await probe.failedReasons()).join('\n')}` : ''
    throw new Error(`${(error as Error).message}\nlast state: ${lastState}${reasons}`)
  }
}

/** Throws, with its last output, if one of the processes has exited. */
export function assertAlive(processes: ManagedProcess[]): void {
  for (const p of processes) {
    if (!p.running) {
      throw new Fatal(`${p.name} exited (${p.proc.signalCode ?? p.proc.exitCode}) unexpectedly:\n${p.log.tail(10)}\n${p.stderr.tail(20)}`)
    }
  }
}

/**
 * After a worker is killed, BullMQ hands its active jobs to another worker only once their lock
 * (30 s) has expired and two stalled checks (every 30 s, one per queue at a time) have seen them:
 * up to about a minute. This makes Redis look as it will then (locks gone, jobs marked as stall
 * candidates, check due), so the next worker's start-up check requeues them at once. Call it only
 * while no worker runs: every active job is then the dead worker's. Returns the jobs requeued.
 */
export async function expireDeadWorkerLocks(probe: QueueProbe): Promise<string[]> {
  const key = (suffix: string) => probe.queue.toKey(suffix)
  const active = await probe.redis.lrange(key('active'), 0, -1)
  if (active.length > 0) {
    await probe.redis.del(...active.map((id) => key(`${id}:lock`)))
    await probe.redis.sadd(key('stalled'), ...active)
  }
  await probe.redis.del(key('stalled-check'))
  return active
}

/** Waits until none of the jobs is waiting, delayed or running any more (completed jobs are removed). */
export async function awaitJobsDone(probe: QueueProbe, ids: string[], ms: number): Promise<void> {
  await pollUntil(
    `interrupted jobs ${ids.join(', ')} to be processed again`,
    async () => {
      const states = await Promise.all(ids.map((id) => probe.queue.getJobState(id)))
      if (states.includes('failed')) throw new Fatal(`interrupted jobs failed for good: ${(await probe.failedReasons()).join('; ')}`)
      return states.every((state) => state === 'unknown' || state === 'completed')
    },
    ms,
  )
}

export interface ExactlyOnceReport {
  acknowledged: number
  stored: number
  rowsForSite: number
  missing: string[]
}

/** Every acknowledged id is stored exactly once, and nothing else than what was sent is stored. */
export async function checkExactlyOnce(sql: postgres.Sql, siteId: string, acknowledged: Set<string>, sent: Set<string>): Promise<ExactlyOnceReport> {
  const ids = [...acknowledged]
  const [counts] = await sql<{ total: number; distinct_ids: number }[]>`
    select count(*)::int as total, count(distinct event_id)::int as distinct_ids
      from events where site_id = ${siteId} and event_id = any(${ids}::text[])`
  // A set difference (hashed): events has no index on event_id, its idempotency key is in event_ids.
  const missing = await sql<{ event_id: string }[]>`
    select event_id from (select unnest(${ids}::text[]) as event_id except select event_id from events where site_id = ${siteId}) m limit 20`
  const [all] = await sql<{ total: number; distinct_ids: number; keys: number; keys_without_event: number }[]>`
    select count(*)::int as total, count(distinct event_id)::int as distinct_ids,
           (select count(*) from event_ids where site_id = ${siteId})::int as keys,
           (select count(*) from (select event_id from event_ids where site_id = ${siteId} except select event_id from events where site_id = ${siteId}) k)::int as keys_without_event
      from events where site_id = ${siteId}`
  const stored = await sql<{ event_id: string }[]>`select event_id from events where site_id = ${siteId}`
  const unknown = stored.filter((row) => !sent.has(row.event_id)).map((row) => row.event_id)
  if (counts!.total !== ids.length || counts!.distinct_ids !== ids.length || missing.length > 0) {
    throw new Error(
      `acknowledged ${ids.length}, stored ${counts!.total} rows (${counts!.distinct_ids} distinct) for them; missing e.g. ${missing.map((m) => m.event_id).join(', ')}`,
    )
  }
  if (all!.total !== all!.distinct_ids) throw new Error(`duplicate event ids for ${siteId}: ${all!.total} rows, ${all!.distinct_ids} distinct`)
  // Every stored event has its idempotency key, and no key is left without its event.
  if (all!.keys !== all!.total || all!.keys_without_event > 0) {
    throw new Error(`event_ids of ${siteId}: ${all!.keys} keys for ${all!.total} events, ${all!.keys_without_event} without their event`)
  }
  if (unknown.length > 0) throw new Error(`rows that were never sent: ${unknown.slice(0, 10).join(', ')}`)
  return { acknowledged: ids.length, stored: counts!.total, rowsForSite: all!.total, missing: missing.map((m) => m.event_id) }
}

/**
 * The rollups equal a recount from the raw rows (the site is UTC): totals, and per UTC day and
 * per hour the views, events and distinct users, and per day the views by path.
 */
export async function checkRollups(sql: postgres.Sql, siteId: string): Promise<void> {
  const [totals] = await sql<{ rollup: number; raw: number }[]>`
    select (select coalesce(sum(events), 0)::int from rollup_days where site_id = ${siteId}) as rollup,
           (select count(*)::int from events where site_id = ${siteId}) as raw`
  if (totals!.rollup !== totals!.raw) throw new Error(`rollup_days counts ${totals!.rollup} events, the events table ${totals!.raw}`)

  const days = await sql`
    select day::text as day, views, events, users from rollup_days where site_id = ${siteId} order by day`
  const recountDays = await sql`
    select (timestamp at time zone 'UTC')::date::text as day,
           (count(*) filter (where event_type = 'page_view'))::int as views,
           count(*)::int as events,
           count(distinct user_id)::int as users
      from events where site_id = ${siteId} group by 1 order by 1`
  assertSameRows('rollup_days', [...days], [...recountDays])

  const hours = await sql`
    select to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, views, events, users
      from rollup_hours where site_id = ${siteId} order by hour`
  const recountHours = await sql`
    select to_char(date_trunc('hour', timestamp at time zone 'UTC'), 'YYYY-MM-DD HH24') as hour,
           (count(*) filter (where event_type = 'page_view'))::int as views,
           count(*)::int as events,
           count(distinct user_id)::int as users
      from events where site_id = ${siteId} group by 1 order by 1`
  assertSameRows('rollup_hours', [...hours], [...recountHours])

  const paths = await sql`
    select day::text as day, path, views from rollup_day_paths where site_id = ${siteId} and views > 0 order by day, path`
  const recountPaths = await sql`
    select (timestamp at time zone 'UTC')::date::text as day, path, count(*)::int as views
      from events where site_id = ${siteId} and event_type = 'page_view' group by 1, 2 order by 1, 2`
  assertSameRows('rollup_day_paths', [...paths], [...recountPaths])
}

function assertSameRows(table: string, actual: object[], expected: object[]): void {
  const a = actual.map((row) => JSON.stringify(row))
  const e = expected.map((row) => JSON.stringify(row))
  if (a.length === e.length && a.every((row, i) => row === e[i])) return
  const diff = e.filter((row) => !a.includes(row)).slice(0, 5)
  const extra = a.filter((row) => !e.includes(row)).slice(0, 5)
  throw new Error(
    `${table} differs from a recount (${a.length} rows vs ${e.length}); recount rows not in ${table}: ${diff.join(' ')}; ${table} rows not in the recount: ${extra.join(' ')}`,
  )
}

/** The ingestion ledger of one site (written by the API's and the worker's own counts). */
export async function ledgerOf(sql: postgres.Sql, siteId: string): Promise<{ accepted: number; written: number; duplicates: number } | undefined> {
  const [row] = await sql<{ accepted: number; written: number; duplicates: number }[]>`
    select accepted::int, written::int, duplicates::int from ingest_ledger where site_id = ${siteId}`
  return row
}

/** A private Postgres and the test file's Redis servers or clusters, started together; if one fails, the others are stopped. */
export async function startPrivateServices(redises: TestRedis[]): Promise<PrivatePostgres> {
  const [pg, ...started] = await Promise.allSettled([PrivatePostgres.create(), ...redises.map((redis) => redis.start())])
  const failure = [pg, ...started].find((outcome) => outcome.status === 'rejected')
  if (pg.status === 'fulfilled' && !failure) return pg.value
  await stopPrivateServices(pg.status === 'fulfilled' ? pg.value : undefined, redises)
  throw (failure as PromiseRejectedResult).reason
}

/** Tears down what startPrivateServices made; Postgres may be missing if starting failed. */
export async function stopPrivateServices(pg: PrivatePostgres | undefined, redises: TestRedis[]): Promise<void> {
  await Promise.all([...redises.map((redis) => redis.destroy()), pg?.destroy()])
}

/** The Redis kinds the fault suites run on: the product's default, and a Redis Cluster (REDIS_CLUSTER_NODES). */
export const privateRedisKinds = () =>
  [
    { kind: 'one Redis', redis: new PrivateRedis() },
    { kind: 'a Redis Cluster of 3 masters', redis: new PrivateRedisCluster() },
  ] as const
