/**
 * Reporting benchmark: `bun bench/stats.ts [--events 10000000] [--duration 10] [--reuse]`.
 *
 * Loads events over 30 days (20 sites with skewed traffic, 1,000 paths with skewed popularity,
 * 200,000 users) into its own database with SQL, builds the rollups with the product's own
 * rebuild (the oracle tests show it produces exactly what the live write path does), then drives
 * the API with wrk: /stats for one day, /stats over 30 days and a 30-day daily timeseries, on the
 * busiest site and on random sites. For the ratios it asks 15 of those questions one at a time,
 * of the product over HTTP and of raw events with the original design's queries (and its
 * (site, date) index), and it prints the storage of rollups against the raw table.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { createDb } from '../drizzle/client'
import { rebuildRollups } from '../worker/jobs/rebuild'
import { createMigratedDatabase, databaseUrl } from '../tests/kit/fixtures'
import { answersHealth, API_COMMAND, freePort, LoggedProcess, pollUntil } from '../tests/kit/processes'
import { median } from './report'

const DB_NAME = 'analytics_stats_bench'

const USAGE = `Usage: bun bench/stats.ts [options]

  --events <n>        events to load over 30 days (default 10000000)
  --duration <s>      seconds of wrk load per question (default 10)
  --reuse             keep the database a previous run loaded (${DB_NAME})
  --admin-url <url>   superuser connection (default postgres://postgres@127.0.0.1:5432/postgres)
  -h, --help`

function options() {
  try {
    const { values } = parseArgs({
      options: {
        events: { type: 'string', default: '10000000' },
        duration: { type: 'string', default: '10' },
        reuse: { type: 'boolean', default: false },
        'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    const whole = (name: string, raw: string) => {
      const value = Number(raw)
      if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number, got "${raw}"`)
      return value
    }
    return { events: whole('events', values.events), duration: whole('duration', values.duration), reuse: values.reuse, adminUrl: values['admin-url'] }
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
}

const values = options()
const EVENTS = values.events
const DURATION = values.duration
const adminUrl = values.adminUrl
const dbUrl = databaseUrl(adminUrl, DB_NAME)
const FIRST_DAY = '2025-10-01'
const DAYS = 30
const work = mkdtempSync(join(tmpdir(), 'stats-bench-'))
const say = (message: string) => console.log(`[stats-bench] ${message}`)

async function load(): Promise<void> {
  await createMigratedDatabase(adminUrl, DB_NAME)
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { jit: 'off' } })
  const chunk = 1_000_000
  const started = performance.now()
  // Each of the 200,000 users belongs to one site (user ids are a site's own); users are drawn
  // with skew (floor(200000 r^1.5)) and mapped to sites with skew (floor(20 h^2.5) of a hash h),
  // so the busiest site gets about a third of the traffic. Paths floor(1000 r^3); 15% of events
  // anonymous (on a skewed random site); 75% page views.
  for (let from = 0; from < EVENTS; from += chunk) {
    await sql.unsafe(`
      insert into events (site_id, event_id, event_type, path, user_id, timestamp, received_at)
      select 'site-' || lpad(floor(20 * power(case when anonymous then random() else ((u * 0.6180339887) - floor(u * 0.6180339887)) end, 2.5))::int::text, 2, '0'),
             'e' || i,
             case when r < 0.75 then 'page_view' when r < 0.95 then 'click' else 'signup' end,
             '/page/' || floor(1000 * power(random(), 3))::int,
             case when anonymous then null else 'user-' || u end,
             ts, ts
        from (select i, random() as r, random() < 0.15 as anonymous, floor(200000 * power(random(), 1.5))::int as u,
                     '${FIRST_DAY}'::timestamptz + random() * interval '${DAYS} days' as ts
                from generate_series(${from + 1}, ${Math.min(from + chunk, EVENTS)}) i) g`)
    say(`loaded ${Math.min(from + chunk, EVENTS).toLocaleString()} events (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  }
  await sql`insert into sites (site_id) select distinct site_id from events on conflict do nothing`
  await sql`vacuum analyze events`
  await sql.end()
  const database = createDb(dbUrl, { max: 2 })
  const rebuildStarted = performance.now()
  const ids = (await database.sql<{ site_id: string }[]>`select site_id from sites order by site_id`).map((row) => row.site_id)
  // Two sites at a time: one per core.
  const queue = [...ids]
  await Promise.all(
    [0, 1].map(async () => {
      for (let site = queue.shift(); site; site = queue.shift()) await rebuildRollups(database.db, site)
    }),
  )
  await database.sql`vacuum analyze`
  await database.close()
  say(`rollups rebuilt for ${ids.length} sites in ${((performance.now() - rebuildStarted) / 1000).toFixed(0)} s`)
}

interface Question {
  /** The HTTP path the product answers it on. */
  path: string
  /** The same question over raw events, as the original design asked it. */
  raw: { sql: string; params: (string | number)[] }[]
}

interface Scenario {
  name: string
  target: { p99Ms: number }
  questions: Question[]
}

function day(offset: number): string {
  return new Date(Date.parse(`${FIRST_DAY}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10)
}

const rawDay = (site: string, date: string) => [
  {
    sql: `select count(*) filter (where event_type = 'page_view') as views, count(distinct user_id) as users
            from events where site_id = $1 and (timestamp at time zone 'UTC')::date = $2::date`,
    params: [site, date],
  },
  {
    sql: `select path, count(*) as views from events where site_id = $1 and (timestamp at time zone 'UTC')::date = $2::date
             and event_type = 'page_view' group by path order by views desc, path limit 10`,
    params: [site, date],
  },
]
const rawRange = (site: string) => [
  {
    sql: `select count(*) filter (where event_type = 'page_view') as views, count(distinct user_id) as users
            from events where site_id = $1 and timestamp >= $2::timestamptz and timestamp < $3::timestamptz`,
    params: [site, `${FIRST_DAY}T00:00:00Z`, `${day(DAYS)}T00:00:00Z`],
  },
  {
    sql: `select path, count(*) as views from events where site_id = $1 and timestamp >= $2::timestamptz and timestamp < $3::timestamptz
             and event_type = 'page_view' group by path order by views desc, path limit 10`,
    params: [site, `${FIRST_DAY}T00:00:00Z`, `${day(DAYS)}T00:00:00Z`],
  },
]
const rawSeries = (site: string) => [
  {
    sql: `select (timestamp at time zone 'UTC')::date as day, count(*) filter (where event_type = 'page_view') as views,
                 count(distinct user_id) as users
            from events where site_id = $1 and timestamp >= $2::timestamptz and timestamp < $3::timestamptz group by 1`,
    params: [site, `${FIRST_DAY}T00:00:00Z`, `${day(DAYS)}T00:00:00Z`],
  },
]

function scenarios(busiest: string, sites: string[]): Scenario[] {
  const random = () => sites[Math.floor(Math.random() * sites.length)]!
  const days = Array.from({ length: DAYS }, (_, i) => day(i))
  const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!
  const questions = (make: () => Question) => Array.from({ length: 300 }, make)
  const oneDay = (site: () => string) =>
    questions(() => {
      const [id, date] = [site(), pick(days)]
      return { path: `/stats?site_id=${id}&date=${date}`, raw: rawDay(id, date) }
    })
  const month = (site: () => string) =>
    questions(() => {
      const id = site()
      return { path: `/stats?site_id=${id}&from=${days[0]}&to=${days[DAYS - 1]}`, raw: rawRange(id) }
    })
  const series = (site: () => string) =>
    questions(() => {
      const id = site()
      return { path: `/stats/timeseries?site_id=${id}&from=${days[0]}&to=${days[DAYS - 1]}&interval=day`, raw: rawSeries(id) }
    })
  return [
    { name: '/stats one day, busiest site', target: { p99Ms: 10 }, questions: oneDay(() => busiest) },
    { name: '/stats one day, random sites', target: { p99Ms: 10 }, questions: oneDay(random) },
    { name: '/stats 30 days, busiest site', target: { p99Ms: 100 }, questions: month(() => busiest) },
    { name: '/stats 30 days, random sites', target: { p99Ms: 100 }, questions: month(random) },
    { name: 'timeseries 30 days daily, busiest', target: { p99Ms: 100 }, questions: series(() => busiest) },
    { name: 'timeseries 30 days daily, random', target: { p99Ms: 100 }, questions: series(random) },
  ]
}

async function wrk(baseUrl: string, name: string, paths: string[]): Promise<{ requests: number; p50: number; p99: number; errors: number }> {
  const list = join(work, `${name.replace(/\W+/g, '-')}.txt`)
  writeFileSync(list, `${paths.join('\n')}\n`)
  const child = Bun.spawn(['wrk', '-t2', '-c8', `-d${DURATION}s`, '--timeout', '10s', '-s', join(import.meta.dir, 'wrk/stats.lua'), baseUrl, '--', list], {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = await new Response(child.stdout).text()
  if ((await child.exited) !== 0) throw new Error(`wrk failed: ${await new Response(child.stderr).text()}`)
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
  if (!line) throw new Error(`wrk printed no summary:\n${out}`)
  const result = JSON.parse(line) as { requests: number; p50_us: number; p99_us: number; errors: number }
  return { requests: result.requests, p50: result.p50_us / 1000, p99: result.p99_us / 1000, errors: result.errors }
}

const RATIO_QUESTIONS = 15

/**
 * The ratio compares like with like: the same questions (same sites and days), each asked alone,
 * over raw events in SQL and from the product over HTTP (its HTTP and JSON work included).
 * Raw questions stop early after 60 s; the product answers the questions the raw side reached,
 * three times each.
 */
async function timeRatio(sql: postgres.Sql, baseUrl: string, questions: Question[]) {
  const raw: number[] = []
  const deadline = performance.now() + 60_000
  for (const question of questions.slice(0, RATIO_QUESTIONS)) {
    if (performance.now() > deadline) break
    const started = performance.now()
    for (const query of question.raw) await sql.unsafe(query.sql, query.params)
    raw.push(performance.now() - started)
  }
  const rollup: number[] = []
  for (let pass = 0; pass < 3; pass++) {
    for (const question of questions.slice(0, raw.length)) {
      const started = performance.now()
      const response = await fetch(`${baseUrl}${question.path}`)
      await response.arrayBuffer()
      if (!response.ok) throw new Error(`${question.path} answered ${response.status}`)
      rollup.push(performance.now() - started)
    }
  }
  return { raw: median(raw), rollup: median(rollup) }
}

async function storage(sql: postgres.Sql) {
  const [row] = await sql<{ raw: number; raw_table: number; rollups: number }[]>`
    select pg_total_relation_size('events')::float8 as raw, pg_relation_size('events')::float8 as raw_table,
           (select sum(pg_total_relation_size(c))::float8 from unnest(array['rollup_hours','rollup_days','rollup_hour_paths',
              'rollup_day_paths','rollup_hour_types','rollup_day_types','user_months','rollup_minutes','minute_users']::regclass[]) c) as rollups`
  return row!
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

let api: LoggedProcess | undefined
try {
  if (!values.reuse) await load()
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { jit: 'off' } })
  const [{ count } = { count: 0 }] = await sql<{ count: number }[]>`select count(*)::float8 as count from events`.catch((error) => {
    throw new Error(`${DB_NAME} cannot be read (${error.message}); run once without --reuse to load it`)
  })
  if (count === 0) throw new Error(`${DB_NAME} holds no events; run once without --reuse to load it`)
  const sites = (await sql<{ site_id: string; n: number }[]>`select site_id, sum(events)::float8 as n from rollup_days group by 1 order by 2 desc`)
  say(`${count.toLocaleString()} events; busiest site ${sites[0]!.site_id} with ${sites[0]!.n.toLocaleString()}`)

  const port = freePort()
  // Redis at the product's default: reads never touch the queue.
  api = LoggedProcess.start('api', API_COMMAND, {
    env: { DATABASE_URL: dbUrl, API_PORT: String(port), QUEUE_NAME: 'stats-bench', ADMIN_PASSWORD: 'bench', RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_SITE: '0' },
    logPath: join(work, 'api.log'),
  })
  const baseUrl = `http://127.0.0.1:${port}`
  await pollUntil('the API to listen', () => answersHealth(baseUrl), 30_000, 100, [api])

  const store = await storage(sql)
  // The original design's (site, date) index, so the raw queries are timed as they ran there.
  await sql`create index if not exists bench_events_site_date on events (site_id, ((timestamp at time zone 'UTC')::date))`
  await sql`analyze events`

  const rows: string[][] = []
  let allMet = true
  for (const scenario of scenarios(sites[0]!.site_id, sites.map((s) => s.site_id))) {
    const paths = scenario.questions.map((question) => question.path)
    await wrk(baseUrl, scenario.name, paths.slice(0, 20)) // warm-up
    const measured = await wrk(baseUrl, scenario.name, paths)
    const ratio = await timeRatio(sql, baseUrl, scenario.questions)
    const met = measured.p99 <= scenario.target.p99Ms && measured.errors === 0 && ratio.raw / ratio.rollup >= 100
    allMet &&= met
    rows.push([
      scenario.name,
      `${(measured.requests / DURATION).toFixed(0)}/s`,
      measured.p50.toFixed(2),
      measured.p99.toFixed(2),
      `<= ${scenario.target.p99Ms}`,
      ratio.rollup.toFixed(2),
      ratio.raw.toFixed(1),
      `${(ratio.raw / ratio.rollup).toFixed(0)}x`,
      met ? 'yes' : 'NO',
    ])
  }
  await sql`drop index if exists bench_events_site_date`
  await sql.end()

  const header = ['question', 'rate', 'p50 ms', 'p99 ms', 'target', 'alone p50 ms', 'raw alone p50 ms', 'raw/rollup p50', 'met']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')
  console.log(`\n${line(header)}\n${rows.map(line).join('\n')}`)
  console.log(
    `\nstorage: raw events ${mb(store.raw)} (table ${mb(store.raw_table)} + indexes), rollups ${mb(store.rollups)} = ` +
      `${((store.rollups / store.raw) * 100).toFixed(0)}% of raw (target <= 60%)`,
  )
  console.log(
    `rate, p50 and p99: wrk, 2 threads, 8 connections, ${DURATION} s per question. "alone": the same ${RATIO_QUESTIONS} questions ` +
      `(sites and days) asked one at a time, from the product over HTTP (3 times each) and over raw events in SQL with the original ` +
      `(site, date) index; their p50s give the ratio`,
  )
  if (!allMet || store.rollups / store.raw > 0.6) process.exitCode = 1
} finally {
  await api?.stop()
}
