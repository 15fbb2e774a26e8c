/**
 * STATS_DATABASE_URL on a real streaming replica: a private primary, a hot standby made from it
 * with pg_basebackup, the API reading stats, site lists, goal and funnel lists and exports from the
 * standby while writes, the ledger and accounts stay on the primary. Pausing the standby's replay
 * freezes what the read routes answer (the primary meanwhile has the new rows), and resuming it
 * lets them catch up. The API and worker processes then ingest a load while the replication lag
 * is sampled and printed; the API refuses to start while the replica does not answer, and once it
 * stops answering, /health says so.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type postgres from 'postgres'
import { createDb, type Database } from '../drizzle/client'
import { freePort, PrivatePostgres, pollUntil, startApi, startWorker, stopAll, withDeadline } from './faults/harness'
import { obliterateQueues, uniqueName } from './kit/fixtures'
import { API_COMMAND, runToEnd } from './kit/processes'
import { startStack, testEnv, type Stack } from './support'

let primary: PrivatePostgres | undefined
let replica: PrivatePostgres | undefined
let stack: Stack | undefined
let reads: Database | undefined
let replicaUrl: string
/** Superuser pools on the app's database: the primary's and the standby's. */
let onPrimary: postgres.Sql
let onReplica: postgres.Sql

const site = 'replica-site'
const day = '2025-11-14'
const pageViews = (paths: string[], minute: number) =>
  paths.map((path, i) => ({
    site_id: site,
    event_type: 'page_view',
    path,
    user_id: `user-${i % 3}`,
    timestamp: `${day}T12:${String(minute + i).padStart(2, '0')}:00Z`,
  }))

/**
 * How far the primary's WAL is flushed: at or past the commit of every transaction that has
 * returned (commits wait for their flush here), and all of it may be streamed at once. (The insert
 * position, pg_current_wal_lsn, also covers transactions still under way, which the standby cannot
 * have before they flush.)
 */
const walPosition = async () => (await onPrimary<{ lsn: string }[]>`select pg_current_wal_flush_lsn()::text as lsn`)[0]!.lsn

/** A WAL position (`16/B374D848`) as a number, to compare. */
const lsnValue = (lsn: string) => {
  const [high, low] = lsn.split('/')
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`)
}

/** Resolves once the standby has replayed everything the primary has flushed so far. */
async function caughtUp(): Promise<void> {
  const lsn = await walPosition()
  await pollUntil('the replica to replay the primary', async () => (await onReplica<{ done: boolean }[]>`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`)[0]!.done, 30_000, 5)
}

beforeAll(async () => {
  // wal_level=replica is Postgres 15's default, said here all the same. Commits wait for their WAL to be
  // flushed, as in production: the private clusters' synchronous_commit=off would hold each commit
  // back from the standby until the WAL writer's next round (up to 200 ms), which is not the
  // product's lag.
  primary = await PrivatePostgres.create({ settings: { wal_level: 'replica', synchronous_commit: 'on' } })
  replica = await PrivatePostgres.replicaOf(primary)
  // Migrated after the standby started: the schema reaches it as WAL, like every later write.
  const { name, url } = await primary.createDatabase('replica')
  onPrimary = primary.admin(name)
  const replicaCluster = replica.admin()
  await pollUntil('the database on the replica', async () => (await replicaCluster`select 1 from pg_database where datname = ${name}`).length > 0, 30_000)
  onReplica = replica.admin(name)
  await caughtUp()
  const database = createDb(url, { max: 8 })
  replicaUrl = replica.url(name)
  reads = createDb(replicaUrl, { max: 4 })
  // The private cluster goes away with destroy(); closing the pool is all the stack has to do.
  stack = await startStack('replica', { database: { ...database, url, drop: () => database.close() }, reads })
}, 120_000)

afterAll(async () => {
  await stack?.close()
  await reads?.close()
  await replica?.destroy()
  await primary?.destroy()
})

test('the replica is a hot standby, and /health checks it beside the primary', async () => {
  expect((await onReplica<{ standby: boolean }[]>`select pg_is_in_recovery() as standby`)[0]!.standby).toBe(true)
  expect((await onPrimary<{ standby: boolean }[]>`select pg_is_in_recovery() as standby`)[0]!.standby).toBe(false)
  const response = await stack!.get('/health')
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({ status: 'healthy', service: 'analytics-api', checks: { redis: 'up', postgres: 'up', replica: 'up' } })
})

test('while the replica replays nothing, the read routes answer what it has; writes, the ledger and accounts go to the primary', async () => {
  const s = stack!
  const admin = { ...s.adminHeaders, 'content-type': 'application/json' }
  await s.store(pageViews(['/home', '/products', '/home', '/about', '/products'], 0))
  const send = (method: string, path: string, body: unknown) => fetch(s.baseUrl + path, { method, headers: admin, body: JSON.stringify(body) })
  const addGoal = async (path: string) => {
    const response = await send('POST', `/sites/${site}/goals`, { name: `visited ${path}`, page: path })
    expect(response.status).toBe(201)
    return ((await response.json()) as { goal_id: string }).goal_id
  }
  const home = await addGoal('/home')
  await caughtUp()

  const range = `site_id=${site}&from=${day}&to=${day}`
  const reads = [
    `/stats?site_id=${site}&date=${day}`,
    `/stats?${range}`,
    `/stats/timeseries?${range}&interval=hour`,
    `/stats/breakdown?${range}&property=page`,
    `/stats/breakdown?${range}&property=goal`,
    '/sites',
    `/sites/${site}/goals`,
    `/sites/${site}/funnels`,
    `/sites/${site}/export?format=ndjson`,
  ]
  const answers = async () => {
    const texts: Record<string, string> = {}
    for (const path of reads) {
      const response = await s.get(path, s.adminHeaders)
      expect(response.status, path).toBe(200)
      texts[path] = await response.text()
    }
    return texts
  }
  const before = await answers()
  expect(JSON.parse(before[reads[0]!]!)).toMatchObject({ total_views: 5 })

  await onReplica`select pg_wal_replay_pause()`
  await pollUntil('replay to pause', async () => (await onReplica<{ state: string }[]>`select pg_get_wal_replay_pause_state() as state`)[0]!.state === 'paused', 10_000)
  try {
    // Events, a goal and a funnel: each changes an answer above once it reaches the replica.
    await s.store(pageViews(['/pricing', '/home', '/pricing'], 20))
    const about = await addGoal('/about')
    expect((await send('POST', `/sites/${site}/funnels`, { name: 'home to about', steps: [home, about] })).status).toBe(201)
    // An account made now can sign in at once, and disabling it takes effect at once: the primary.
    const created = await send('POST', '/users', { username: 'replica-viewer', password: 'a-first-password', role: 'viewer', sites: [site] })
    expect(created.status).toBe(201)
    const viewer = { authorization: `Basic ${btoa('replica-viewer:a-first-password')}` }
    expect((await s.get('/account', viewer)).status).toBe(200)
    const userId = ((await created.json()) as { user_id: string }).user_id
    expect((await send('PATCH', `/users/${userId}`, { disabled: true })).status).toBe(200)
    expect((await s.get('/account', viewer)).status).toBe(401)

    // The primary has all of it...
    expect((await onPrimary<{ n: number }[]>`select count(*)::int as n from events where site_id = ${site}`)[0]!.n).toBe(8)
    expect((await onPrimary<{ n: number }[]>`select count(*)::int as n from goals where site_id = ${site}`)[0]!.n).toBe(2)
    expect((await onPrimary<{ n: number }[]>`select count(*)::int as n from funnels where site_id = ${site}`)[0]!.n).toBe(1)
    await s.flush()
    const ledger = (await (await s.get(`/ingest/ledger?site_id=${site}`, s.adminHeaders)).json()) as { sites: { accepted: number; written: number }[] }
    expect(ledger.sites[0]).toMatchObject({ accepted: 8, written: 8 })
    // ...the replica none of it, and every read route answers as before.
    expect((await onReplica<{ n: number }[]>`select count(*)::int as n from events where site_id = ${site}`)[0]!.n).toBe(5)
    expect(await answers()).toEqual(before)
  } finally {
    await onReplica`select pg_wal_replay_resume()`
  }

  await caughtUp()
  const after = await answers()
  for (const path of reads) expect(after[path], path).not.toBe(before[path])
  expect(JSON.parse(after[reads[0]!]!)).toMatchObject({ total_views: 8, top_paths: [{ path: '/home', views: 3 }, { path: '/pricing', views: 2 }, { path: '/products', views: 2 }, { path: '/about', views: 1 }] })
  expect(after[`/sites/${site}/export?format=ndjson`]!.trim().split('\n')).toHaveLength(8)
})

test('under load from the API and worker processes, what is committed reaches the replica within a measured lag, and all of it does', async () => {
  // Real processes, so that this one only sends events and samples: the API and the worker in it
  // would hold its event loop for tens of milliseconds at a time and inflate every sample.
  const env = { databaseUrl: stack!.database.url, redis: testEnv.redis, queueName: uniqueName('replica-load') }
  const [api, worker] = await Promise.all([startApi(env, freePort(), 'api', { STATS_DATABASE_URL: replicaUrl, RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_SITE: '0' }), startWorker(env, 'worker', 2)])
  try {
    const listening = JSON.parse(await api.log.next('"api listening"')) as { url: string; statsReads: string }
    expect(listening.statsReads).toBe('replica')
    const batches = 40
    const perBatch = 300
    const total = batches * perBatch
    const post = async (b: number) => {
      const events = Array.from({ length: perBatch }, (_, i) => ({
        site_id: 'replica-load',
        event_type: 'page_view',
        path: `/page-${i % 40}`,
        user_id: `visitor-${(b * perBatch + i) % 2_000}`,
        timestamp: new Date(Date.UTC(2025, 10, 15) + (b * perBatch + i) * 1_000).toISOString(),
      }))
      const response = await fetch(`${listening.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) })
      expect(response.status).toBe(202)
    }
    const stored = () => onPrimary<{ n: number }[]>`select count(*)::int as n from events where site_id = 'replica-load'`.then((rows) => rows[0]!.n)

    // Every 10 ms while the load runs, a sample: what the primary has flushed at that moment, and
    // how long until the standby has received and then replayed it (when the read routes see it).
    // One watcher asks the standby where it is for all samples at once: a query per sample would
    // take CPU from the replay it measures.
    const pending: { lsn: bigint; since: number; received?: number }[] = []
    const lags: { received: number; replayed: number }[] = []
    let loading = true
    const sampler = (async () => {
      while (loading) {
        const since = performance.now()
        pending.push({ lsn: lsnValue(await walPosition()), since })
        await Bun.sleep(10)
      }
    })()
    const watcher = (async () => {
      while (loading || pending.length > 0) {
        const [row] = await onReplica<{ received: string; replayed: string }[]>`
          select pg_last_wal_receive_lsn()::text as received, pg_last_wal_replay_lsn()::text as replayed`
        const now = performance.now()
        const [received, replayed] = [lsnValue(row!.received), lsnValue(row!.replayed)]
        for (const item of [...pending]) {
          if (received >= item.lsn) item.received ??= now - item.since
          if (replayed >= item.lsn) {
            lags.push({ received: item.received!, replayed: now - item.since })
            pending.splice(pending.indexOf(item), 1)
          }
        }
        await Bun.sleep(1)
      }
    })()
    const started = performance.now()
    try {
      await Promise.all(
        Array.from({ length: 4 }, async (_, lane) => {
          for (let b = lane; b < batches; b += 4) await post(b)
        }),
      )
      await pollUntil('the worker to write every event', async () => (await stored()) === total, 60_000, 20, [api, worker])
    } finally {
      loading = false
      await sampler
    }
    const seconds = (performance.now() - started) / 1000
    await withDeadline(watcher, 30_000, 'the replica to replay every sample')
    await caughtUp()

    expect(await onReplica<{ n: number }[]>`select count(*)::int as n from events where site_id = 'replica-load'`.then((rows) => rows[0]!.n)).toBe(total)
    const stats = (await (await fetch(`${listening.url}/stats?site_id=replica-load&from=2025-11-15&to=2025-11-16`)).json()) as { total_views: number }
    expect(stats.total_views).toBe(total)

    expect(lags.length).toBeGreaterThan(0)
    const figures = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b)
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1)
      return `median ${at(0.5)} ms, 90th percentile ${at(0.9)} ms, 99th ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`
    }
    console.log(
      `replication lag while ${total} events were written in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} events/s; ${lags.length} samples, one every 10 ms): ` +
        `received ${figures(lags.map((lag) => lag.received))}; replayed ${figures(lags.map((lag) => lag.replayed))}`,
    )
  } finally {
    await stopAll([api, worker])
    await obliterateQueues(testEnv.redis, env.queueName)
  }
}, 90_000)

test('the API refuses to start while STATS_DATABASE_URL does not answer, naming it', async () => {
  const env = { API_PORT: '0', DATABASE_URL: stack!.database.url, REDIS_URL: testEnv.redis.url, ADMIN_PASSWORD: 'replica-test' }
  const refused = await runToEnd(API_COMMAND, { env: { ...env, STATS_DATABASE_URL: 'postgres://analytics_user:secret-pw@127.0.0.1:1/analytics' }, ms: 30_000 })
  expect(refused.code).not.toBe(0)
  expect(refused.output).toContain('Cannot reach PostgreSQL at postgres://analytics_user:***@127.0.0.1:1/analytics')
  expect(refused.output).toContain('STATS_DATABASE_URL')
  expect(refused.output).not.toContain('secret-pw')
})

test('a replica that stops answering makes /health unhealthy, naming it, while ingestion goes on', async () => {
  const s = stack!
  await replica!.stop('fast')
  const response = await s.get('/health')
  expect(response.status).toBe(503)
  expect(await response.json()).toEqual({ status: 'unhealthy', service: 'analytics-api', checks: { redis: 'up', postgres: 'up', replica: 'down' } })
  await s.store(pageViews(['/while-replica-down'], 40))
  expect((await onPrimary<{ n: number }[]>`select count(*)::int as n from events where path = '/while-replica-down'`)[0]!.n).toBe(1)
  // A stats read has nowhere to go: the API's 503 for an unavailable database, never a 500.
  const stats = await s.get(`/stats?site_id=${site}&date=${day}`)
  expect(stats.status).toBe(503)
  expect(await stats.json()).toMatchObject({ error: 'Database is unavailable; retry later' })
})
