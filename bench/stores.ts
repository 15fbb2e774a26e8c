/** The benchmark's own Postgres database and Redis keys, and the figures read from them. */
import IORedis from 'ioredis'
import postgres from 'postgres'
import { createMigratedDatabase, databaseUrl, deleteKeys, scanKeys } from '../tests/kit/fixtures'

/** Our own sessions carry this name, so the wait-event sampler can leave them out. */
const APPLICATION_NAME = 'bench-ingest'

/** "insert ingest_ledger", "update sites", "commit": enough to tell the product's statements apart. */
function statementLabel(query: string): string {
  const insert = /insert\s+into\s+"?(\w+)/i.exec(query)
  if (insert) return `insert ${insert[1]}`
  // Not the "for update" of a locking select.
  const update = /(?<!for\s+)\bupdate\s+"?(\w+)/i.exec(query)
  if (update) return `update ${update[1]}`
  return /^\s*(\w+)/.exec(query)?.[1]?.toLowerCase() ?? '?'
}

export class BenchDatabase {
  readonly url: string
  private client: postgres.Sql | undefined

  constructor(
    private readonly adminUrl: string,
    readonly name: string,
  ) {
    this.url = databaseUrl(adminUrl, name)
  }

  /** Drop (disconnecting anyone left), create, migrate: every phase starts from an empty table. */
  async recreate(): Promise<void> {
    await this.disconnect()
    await createMigratedDatabase(this.adminUrl, this.name)
  }

  private get sql(): postgres.Sql {
    this.client ??= postgres(this.url, { max: 2, connect_timeout: 5, onnotice: () => {}, connection: { application_name: APPLICATION_NAME } })
    return this.client
  }

  async countRows(): Promise<number> {
    const [row] = await this.sql<{ n: string }[]>`select count(*) as n from events`
    return Number(row!.n)
  }

  async truncate(): Promise<void> {
    await this.sql`truncate events`
  }

  /** Rows, distinct event ids (ours are globally unique, so any gap is a duplicate) and rows not from this load. */
  async exactlyOnce(tag: string): Promise<{ rows: number; distinctEventIds: number; foreign: number }> {
    const [row] = await this.sql<{ rows: string; distinct_ids: string; foreign: string }[]>`
      select count(*) as rows,
             count(distinct event_id) as distinct_ids,
             count(*) filter (where event_id not like ${`${tag}-%`}) as foreign
        from events`
    return { rows: Number(row!.rows), distinctEventIds: Number(row!.distinct_ids), foreign: Number(row!.foreign) }
  }

  /**
   * Accept-to-commit lag over every row, from received_at (stamped by the API on receipt) to the
   * commit of the transaction that wrote the row. Postgres knows that time only with
   * track_commit_timestamp = on; otherwise the lag ends at created_at (now(): the start of the
   * worker's transaction, before its rollups, ledger and commit), and `endsAt` says so.
   */
  async lag(): Promise<{ p50Ms: number; p99Ms: number; maxMs: number; rows: number; endsAt: 'commit' | 'transaction start' }> {
    const [setting] = await this.sql<{ track_commit_timestamp: string }[]>`show track_commit_timestamp`
    const endsAt = setting!.track_commit_timestamp === 'on' ? 'commit' : 'transaction start'
    const end = endsAt === 'commit' ? 'pg_xact_commit_timestamp(xmin)' : 'created_at'
    const [row] = await this.sql.unsafe<{ p50: number | null; p99: number | null; max: number | null; rows: string }[]>(`
      select percentile_cont(0.5) within group (order by lag_ms) as p50,
             percentile_cont(0.99) within group (order by lag_ms) as p99,
             max(lag_ms) as max,
             count(*) as rows
        from (select (extract(epoch from ${end} - received_at) * 1000)::float8 as lag_ms from events) as lags`)
    return { p50Ms: row!.p50 ?? NaN, p99Ms: row!.p99 ?? NaN, maxMs: row!.max ?? NaN, rows: Number(row!.rows), endsAt }
  }

  /**
   * What the product's Postgres sessions are doing right now, for sessions in a transaction or a
   * statement: "<wait event, or CPU> · <statement>", e.g. "Lock:transactionid · insert ingest_ledger".
   * For a session idle in a transaction (Client:ClientRead) the statement is the last one it ran.
   */
  async activity(): Promise<Record<string, number>> {
    const rows = await this.sql<{ wait: string; query: string }[]>`
      select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait, left(query, 2000) as query
        from pg_stat_activity
       where datname = ${this.name} and application_name <> ${APPLICATION_NAME} and state <> 'idle'`
    const counts: Record<string, number> = {}
    for (const row of rows) {
      const key = `${row.wait} · ${statementLabel(row.query)}`
      counts[key] = (counts[key] ?? 0) + 1
    }
    return counts
  }

  async disconnect(): Promise<void> {
    await this.client?.end({ timeout: 5 })
    this.client = undefined
  }

  async close(): Promise<void> {
    await this.disconnect()
  }
}

export class BenchRedis {
  private readonly redis: IORedis

  /** `queue` is our BullMQ queue name under the default `bull` prefix; only its keys are touched. */
  constructor(url: string, readonly queue: string) {
    this.redis = new IORedis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  }

  /** The ingest queue's keys, and those of its maintenance queue (the worker's prune scheduler). */
  private get patterns(): string[] {
    return [`bull:${this.queue}:*`, `bull:${this.queue}-maintenance:*`]
  }

  async connect(): Promise<void> {
    await this.redis.connect()
  }

  /** used_memory from INFO memory: the whole server's, as Redis does not account per key prefix. */
  async usedMemory(): Promise<number> {
    const info = await this.redis.info('memory')
    const match = /^used_memory:(\d+)/m.exec(info)
    if (!match) throw new Error('INFO memory has no used_memory field')
    return Number(match[1])
  }

  async deleteQueueKeys(): Promise<number> {
    let deleted = 0
    for (const pattern of this.patterns) deleted += await deleteKeys(this.redis, pattern)
    return deleted
  }

  /** Jobs BullMQ gave up on (they would be events accepted but never stored). */
  async failedJobs(): Promise<number> {
    return this.redis.zcard(`bull:${this.queue}:failed`)
  }

  /** Jobs ever added to the queue: BullMQ numbers them with this counter. */
  async jobsCreated(): Promise<number> {
    return Number((await this.redis.get(`bull:${this.queue}:id`)) ?? 0)
  }

  /** Jobs not finished yet: waiting, being processed, or scheduled for a retry. */
  async unfinishedJobs(): Promise<number> {
    const key = (name: string) => `bull:${this.queue}:${name}`
    const replies = await this.redis
      .multi()
      .llen(key('wait'))
      .llen(key('active'))
      .llen(key('paused'))
      .zcard(key('delayed'))
      .zcard(key('prioritized'))
      .exec()
    return (replies ?? []).reduce((sum, [error, n]) => (error ? sum : sum + Number(n)), 0)
  }

  /** Jobs waiting for a worker (the backlog between API and worker). */
  async waitingJobs(): Promise<number> {
    return this.redis.llen(`bull:${this.queue}:wait`)
  }

  /** Total bytes held by our queue's keys (MEMORY USAGE), to set against the server-wide figure. */
  async queueKeyBytes(): Promise<number> {
    let bytes = 0
    for (const pattern of this.patterns) {
      for await (const keys of scanKeys(this.redis, pattern)) for (const key of keys) bytes += Number((await this.redis.memory('USAGE', key)) ?? 0)
    }
    return bytes
  }

  async pid(): Promise<number | undefined> {
    const match = /^process_id:(\d+)/m.exec(await this.redis.info('server'))
    return match ? Number(match[1]) : undefined
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}

/**
 * Samples, every 250 ms while a load runs and drains, the backlog of waiting jobs in Redis and what
 * the product's Postgres sessions wait on: evidence of where time goes, at little cost.
 */
export class ActivitySampler {
  private peakWaitingJobs = 0
  private samples = 0
  private readonly waits = new Map<string, number>()
  private running: Promise<void> | undefined
  private stopped = false

  constructor(
    private readonly db: BenchDatabase,
    private readonly redis: BenchRedis,
  ) {}

  start(): this {
    this.running = this.loop()
    return this
  }

  async stop(): Promise<{ peakWaitingJobs: number; samples: number; waits: Record<string, number> }> {
    this.stopped = true
    await this.running
    return { peakWaitingJobs: this.peakWaitingJobs, samples: this.samples, waits: Object.fromEntries(this.waits) }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const [waiting, activity] = await Promise.all([this.redis.waitingJobs(), this.db.activity()])
        this.peakWaitingJobs = Math.max(this.peakWaitingJobs, waiting)
        this.samples += 1
        for (const [what, n] of Object.entries(activity)) this.waits.set(what, (this.waits.get(what) ?? 0) + n)
      } catch {
        // A missed sample is no reason to fail the benchmark.
      }
      await Bun.sleep(250)
    }
  }
}
