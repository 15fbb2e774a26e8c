/**
 * Reporting benchmark: `bun bench/stats.ts [--events 10000000] [--duration 10] [--reuse]`.
 *
 * Loads events over 30 days (20 sites with skewed traffic, 1,000 paths with skewed popularity,
 * 200,000 users) into its own database with SQL, builds the rollups and visits with the product's
 * own rebuild (the oracle tests show it produces exactly what the live write path does), then
 * drives the API with wrk: /stats for one day, /stats over 30 days and a 30-day daily timeseries,
 * on the busiest site and on random sites, /stats/breakdown for one day and 30 days over all
 * 15 properties, and over 30 days the goals (four per site), a custom property, questions with one
 * or two filters (/stats, the timeseries and breakdowns) and a funnel of four steps. For the ratios it asks 15 of the /stats questions one at a time, of the product
 * over HTTP and of raw events with the original design's queries (and its (site, date) index),
 * and it prints the storage of rollups against the raw table. Breakdown answers are checked
 * against a recount of visits from the raw events.
 *
 * Events come in sessions of a few events minutes apart, some gaps longer than the 30-minute
 * visit gap, so visits form and some sessions make two; each session carries one traffic source
 * (referrer, UTM tags on about a fifth) and each user one browser, OS, device and country, resolved
 * by the API's own code (server/ingest/visit.ts) from real user agents, referrers and tags.
 * Sign-ups carry a custom property `plan`, clicks `element`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { createDb } from '../drizzle/client'
import { rebuildRollups } from '../worker/jobs/rebuild'
import { VISIT_PROPERTY_COLUMNS } from '../worker/visits/postgres'
import { resolveVisit } from '../server/ingest/visit'
import { isCountryCode } from '../server/ingest/enrich/country'
import type { EventBody } from '../server/ingest/model'
import { visitMetrics } from '../server/stats/visits'
import { BREAKDOWN_PROPERTIES, NOT_SET, type BreakdownProperty } from '../lib/visit-properties'
import { createMigratedDatabase, databaseUrl } from '../tests/kit/fixtures'
import { answersHealth, API_COMMAND, freePort, LoggedProcess, pollUntil } from '../tests/kit/processes'
import { median } from './report'

const DB_NAME = 'analytics_stats_bench'

const USAGE = `Usage: bun bench/stats.ts [options]

  --events <n>        events to load over 30 days (default 10000000)
  --duration <s>      seconds of wrk load per question (default 10)
  --reuse             keep the database a previous run loaded (${DB_NAME})
  --check-sites <n>   sites whose breakdowns are checked against a recount from raw events (default 3)
  --admin-url <url>   superuser connection (default postgres://postgres@127.0.0.1:5432/postgres)
  -h, --help`

function options() {
  try {
    const { values } = parseArgs({
      options: {
        events: { type: 'string', default: '10000000' },
        duration: { type: 'string', default: '10' },
        reuse: { type: 'boolean', default: false },
        'check-sites': { type: 'string', default: '3' },
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
    return {
      events: whole('events', values.events),
      duration: whole('duration', values.duration),
      reuse: values.reuse,
      checkSites: whole('check-sites', values['check-sites']),
      adminUrl: values['admin-url'],
    }
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

/** Real browsers' user agents and the screen widths they come with; no bots (their events are not stored). */
const AGENTS: [string, number, number[]][] = [
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 30, [1920, 1536, 1366, 2560]],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 8, [1920, 1536]],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 6, [1920, 1366]],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 10, [1440, 1512, 1728]],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 7, [1440, 1512]],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 3, [1920, 2560]],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    18,
    [390, 393, 430],
  ],
  ['Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1', 3, [820, 1024]],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 12, [412, 360, 384]],
  ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', 3, [384, 412]],
]
const COUNTRIES: [string | undefined, number][] = [
  ['US', 30],
  ['DE', 9],
  ['GB', 8],
  ['FR', 6],
  ['IN', 7],
  ['BR', 5],
  ['CA', 4],
  ['JP', 4],
  ['NL', 3],
  ['ES', 3],
  ['IT', 3],
  ['PL', 2],
  ['AU', 2],
  ['SE', 2],
  ['MX', 2],
  ['KR', 1],
  ['CH', 1],
  ['ZA', 1],
  ['NG', 1],
  [undefined, 6],
]
const REFERRERS: [string | undefined, number][] = [
  [undefined, 30],
  ['https://www.google.com/', 25],
  ['https://www.google.de/', 3],
  ['https://www.bing.com/', 3],
  ['https://duckduckgo.com/', 2],
  ['https://www.facebook.com/', 6],
  ['https://l.facebook.com/', 2],
  ['https://news.ycombinator.com/item?id=42000000', 4],
  ['https://www.reddit.com/r/selfhosted/', 3],
  ['https://t.co/abc', 2],
  ['https://www.linkedin.com/', 2],
  ['https://github.com/some/repo', 3],
  ...Array.from({ length: 30 }, (_, k): [string, number] => [`https://blog-${k + 1}.example.org/posts/${k}`, 15 / (k + 1) / 4]),
]
const TAGS: [Partial<Record<'utm_source' | 'utm_medium' | 'utm_campaign' | 'utm_content' | 'utm_term', string>>, number][] = [
  [{ utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'december' }, 5],
  [{ utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'november', utm_content: 'footer' }, 2],
  [{ utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'brand', utm_term: 'web analytics' }, 4],
  [{ utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'generic', utm_term: 'privacy analytics' }, 2],
  [{ utm_source: 'facebook', utm_medium: 'paid_social', utm_campaign: 'launch', utm_content: 'video' }, 3],
  [{ utm_source: 'twitter', utm_medium: 'social', utm_campaign: 'launch' }, 2],
  [{ utm_source: 'partner', utm_medium: 'referral' }, 2],
]
/** Sessions' traffic sources and users' agents: built once by the API's own resolution, then drawn by a hash. */
const SOURCES = 2000
const DEVICES = 2000

function weighted<T>(items: [T, number][], random: () => number): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0)
  let u = random() * total
  for (const [item, weight] of items) if ((u -= weight) < 0) return item
  return items[items.length - 1]![0]
}

/** A small deterministic generator, so every load draws the same profiles. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What the API would store for events with these fields. */
function resolved(fields: Partial<EventBody>) {
  const body = { site_id: 'site-00', event_type: 'page_view', path: '/', ...fields } as EventBody
  const visit = resolveVisit(body, { userAgent: '', address: '127.0.0.1', countryHeader: null }, () => null, isCountryCode)
  if (visit === 'bot') throw new Error(`the benchmark's agent ${fields.user_agent} is taken for a bot`)
  return visit
}

async function loadProfiles(sql: postgres.Sql): Promise<void> {
  const random = mulberry32(20261203)
  const sources = Array.from({ length: SOURCES }, (_, k) => {
    const tags = random() < 0.2 ? weighted(TAGS, random) : {}
    const v = resolved({ referrer: weighted(REFERRERS, random), ...tags })
    return {
      k,
      referrer: v.referrer,
      source: v.source,
      channel: v.channel,
      utm_source: v.utmSource,
      utm_medium: v.utmMedium,
      utm_campaign: v.utmCampaign,
      utm_content: v.utmContent,
      utm_term: v.utmTerm,
    }
  })
  const devices = Array.from({ length: DEVICES }, (_, k) => {
    const [agent, , widths] =
      AGENTS[
        AGENTS.indexOf(
          weighted(
            AGENTS.map((a) => [a, a[1]] as [(typeof AGENTS)[number], number]),
            random,
          ),
        )
      ]!
    const v = resolved({
      user_agent: agent,
      screen_width: random() < 0.85 ? widths[Math.floor(random() * widths.length)] : undefined,
      country: weighted(COUNTRIES, random),
    })
    return { k, browser: v.browser, os: v.os, device: v.device, country: v.country }
  })
  await sql`create unlogged table bench_sources (k int primary key, referrer text, source text not null, channel text not null, utm_source text, utm_medium text, utm_campaign text, utm_content text, utm_term text)`
  await sql`create unlogged table bench_devices (k int primary key, browser text, os text, device text, country text)`
  await sql`insert into bench_sources ${sql(sources)}`
  await sql`insert into bench_devices ${sql(devices)}`
}

/** A uniform number in [0, 1) from a hash of x: the same for every event of a session or user. */
const hashed = (x: string, seed: number) => `(((hashint8extended(${x}, ${seed}) >> 11) & 4503599627370495)::float8 / 4503599627370496)`

async function load(): Promise<void> {
  await createMigratedDatabase(adminUrl, DB_NAME)
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { jit: 'off' } })
  await loadProfiles(sql)
  const chunk = 1_000_000
  const started = performance.now()
  // Events come in sessions: an event starts a new one with probability 0.35 (about 3 events
  // each). A session has one user and start, drawn from hashes of its number: users with skew
  // (floor(200000 r^1.5)), mapped to sites with skew (floor(20 h^2.5) of a hash h), so the
  // busiest site gets about a third of the traffic; 15% of sessions anonymous (on a skewed random
  // site: each of their events is a visit of its own). Within a session events are 0.5-10 minutes
  // apart, one gap in seven 31-120 minutes (a new visit). A session has one traffic source, a user
  // one browser, OS, device and country (the tables loadProfiles fills). Timestamps in whole
  // milliseconds, as the API stores them. Paths floor(1000 r^3); 75% page views.
  for (let from = 0; from < EVENTS; from += chunk) {
    await sql.unsafe(`
      insert into events (site_id, event_id, event_type, path, user_id, timestamp, received_at, referrer, source, channel,
                          utm_source, utm_medium, utm_campaign, utm_content, utm_term, browser, os, device, country, props)
      select site, 'e' || i, event_type, path, case when anonymous then null else 'user-' || u end, ts, ts, s.referrer, s.source, s.channel,
             s.utm_source, s.utm_medium, s.utm_campaign, s.utm_content, s.utm_term, d.browser, d.os, d.device, d.country,
             case event_type when 'signup' then jsonb_build_object('plan', (array['free', 'pro', 'team'])[1 + (i % 3)])
                              when 'click' then jsonb_build_object('element', 'cta-' || (i % 7)) end
        from (
          select i, event_type, path, anonymous, u, sess,
                 'site-' || lpad(floor(20 * power(case when anonymous then ${hashed('sess', 4)} else ((u * 0.6180339887) - floor(u * 0.6180339887)) end, 2.5))::int::text, 2, '0') as site,
                 date_trunc('milliseconds', '${FIRST_DAY}'::timestamptz + ${hashed('sess', 5)} * interval '${DAYS} days'
                   + (sum(gap) over (partition by sess order by i) - first_gap) * interval '1 minute') as ts
            from (
              select *, ${hashed('sess', 2)} < 0.15 as anonymous, floor(200000 * power(${hashed('sess', 3)}, 1.5))::int as u,
                     first_value(gap) over (partition by sess order by i) as first_gap
                from (
                  select i, event_type, path, gap, ${from} + sum(starts) over (order by i) as sess
                    from (select i, case when i = ${from + 1} or random() < 0.35 then 1 else 0 end as starts,
                                 case when random() < 1.0 / 7 then 31 + 89 * random() else 0.5 + 9.5 * random() end as gap,
                                 case when r < 0.75 then 'page_view' when r < 0.95 then 'click' else 'signup' end as event_type,
                                 '/page/' || floor(1000 * power(random(), 3))::int as path
                            from (select i, random() as r from generate_series(${from + 1}, ${Math.min(from + chunk, EVENTS)}) i) g0) g1) g2) g3) g4
        join bench_sources s on s.k = floor(${SOURCES} * ${hashed('sess', 6)})::int
        join bench_devices d on d.k = (case when anonymous then floor(${DEVICES} * ${hashed('sess', 7)}) else u % ${DEVICES} end)::int`)
    say(`loaded ${Math.min(from + chunk, EVENTS).toLocaleString()} events (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  }
  await sql`drop table bench_sources, bench_devices`
  await sql`insert into sites (site_id) select distinct site_id from events on conflict do nothing`
  // Every site gets the same goals (an event type, a page, a page pattern) and a funnel of four of them.
  await sql`
    insert into goals (site_id, name, event_type, page)
    select site_id, g.name, g.event_type, g.page from sites,
           (values ('Signed up', 'signup', null), ('Clicked', 'click', null), ('Pricing', null, '/page/1'), ('Docs', null, '/page/2*')) g(name, event_type, page)`
  await sql`
    insert into funnels (site_id, name, steps)
    select site_id, 'Pricing to sign-up', array_agg(goal_id order by array_position(array['Pricing', 'Docs', 'Clicked', 'Signed up'], name))
      from goals group by site_id`
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
  /** The same question over raw events, as the original design asked it; none for breakdowns (checkBreakdowns recounts those). */
  raw?: { sql: string; params: (string | number)[] }[]
}

interface Scenario {
  name: string
  target: { p99Ms: number }
  /** wrk connections (2 threads). */
  connections: number
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

function scenarios(busiest: string, sites: string[], funnelIds: Map<string, string>): Scenario[] {
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
  // Breakdowns rotate over the 15 properties, so every one is asked as often.
  const breakdownDay = (site: () => string) =>
    Array.from({ length: 300 }, (_, k) => ({
      path: `/stats/breakdown?site_id=${site()}&property=${BREAKDOWN_PROPERTIES[k % BREAKDOWN_PROPERTIES.length]}&date=${pick(days)}`,
    }))
  const breakdownMonth = (site: () => string) =>
    Array.from({ length: 300 }, (_, k) => ({
      path: `/stats/breakdown?site_id=${site()}&property=${BREAKDOWN_PROPERTIES[k % BREAKDOWN_PROPERTIES.length]}&from=${days[0]}&to=${days[DAYS - 1]}`,
    }))
  const month30 = `from=${days[0]}&to=${days[DAYS - 1]}`
  const goals = (site: () => string) => questions(() => ({ path: `/stats/breakdown?site_id=${site()}&property=goal&${month30}` }))
  const props = (site: () => string) => questions(() => ({ path: `/stats/breakdown?site_id=${site()}&property=props:plan&${month30}` }))
  // Up to two filters, of both kinds, on every question that takes them.
  const FILTERS = ['country==US', 'source==Google;device==Desktop', 'page==/page/1', 'channel==Organic Search;goal==Signed up']
  const filtered = (site: () => string) =>
    Array.from({ length: 300 }, (_, k) => {
      const filters = `filters=${encodeURIComponent(FILTERS[k % FILTERS.length]!)}`
      const id = site()
      const kinds = [
        `/stats?site_id=${id}&${month30}&${filters}`,
        `/stats/timeseries?site_id=${id}&${month30}&interval=day&${filters}`,
        `/stats/breakdown?site_id=${id}&property=${BREAKDOWN_PROPERTIES[k % BREAKDOWN_PROPERTIES.length]}&${month30}&${filters}`,
      ]
      return { path: kinds[Math.floor(k / FILTERS.length) % kinds.length]! }
    })
  const funnel = (site: () => string) =>
    questions(() => {
      const id = site()
      return { path: `/stats/funnel?site_id=${id}&funnel_id=${funnelIds.get(id)}&${month30}` }
    })
  return [
    { name: '/stats one day, busiest site', target: { p99Ms: 10 }, connections: 8, questions: oneDay(() => busiest) },
    { name: '/stats one day, random sites', target: { p99Ms: 10 }, connections: 8, questions: oneDay(random) },
    { name: '/stats 30 days, busiest site', target: { p99Ms: 100 }, connections: 8, questions: month(() => busiest) },
    { name: '/stats 30 days, random sites', target: { p99Ms: 100 }, connections: 8, questions: month(random) },
    { name: 'timeseries 30 days daily, busiest', target: { p99Ms: 100 }, connections: 8, questions: series(() => busiest) },
    { name: 'timeseries 30 days daily, random', target: { p99Ms: 100 }, connections: 8, questions: series(random) },
    { name: 'breakdown one day, busiest site', target: { p99Ms: 20 }, connections: 16, questions: breakdownDay(() => busiest) },
    { name: 'breakdown one day, random sites', target: { p99Ms: 20 }, connections: 16, questions: breakdownDay(random) },
    { name: 'breakdown 30 days, busiest site', target: { p99Ms: 150 }, connections: 16, questions: breakdownMonth(() => busiest) },
    { name: 'breakdown 30 days, random sites', target: { p99Ms: 150 }, connections: 16, questions: breakdownMonth(random) },
    { name: 'goals 30 days, busiest site', target: { p99Ms: 150 }, connections: 16, questions: goals(() => busiest) },
    { name: 'goals 30 days, random sites', target: { p99Ms: 150 }, connections: 16, questions: goals(random) },
    { name: 'props:plan 30 days, busiest site', target: { p99Ms: 400 }, connections: 16, questions: props(() => busiest) },
    { name: 'props:plan 30 days, random sites', target: { p99Ms: 400 }, connections: 16, questions: props(random) },
    { name: '1-2 filters 30 days, busiest site', target: { p99Ms: 400 }, connections: 16, questions: filtered(() => busiest) },
    { name: '1-2 filters 30 days, random sites', target: { p99Ms: 400 }, connections: 16, questions: filtered(random) },
    { name: 'funnel of 4 steps 30 days, busiest', target: { p99Ms: 500 }, connections: 16, questions: funnel(() => busiest) },
    { name: 'funnel of 4 steps 30 days, random', target: { p99Ms: 500 }, connections: 16, questions: funnel(random) },
  ]
}

async function wrk(
  baseUrl: string,
  name: string,
  paths: string[],
  connections: number,
): Promise<{ requests: number; p50: number; p99: number; errors: number }> {
  const list = join(work, `${name.replace(/\W+/g, '-')}.txt`)
  writeFileSync(list, `${paths.join('\n')}\n`)
  const child = Bun.spawn(
    ['wrk', '-t2', `-c${connections}`, `-d${DURATION}s`, '--timeout', '10s', '-s', join(import.meta.dir, 'wrk/stats.lua'), baseUrl, '--', list],
    {
      stdout: 'pipe',
      stderr: 'pipe',
    },
  )
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
  if (!questions[0]?.raw) return null
  const raw: number[] = []
  const deadline = performance.now() + 60_000
  for (const question of questions.slice(0, RATIO_QUESTIONS)) {
    if (performance.now() > deadline) break
    const started = performance.now()
    for (const query of question.raw!) await sql.unsafe(query.sql, query.params)
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
  const [row] = await sql<{ raw: number; raw_table: number; rollups: number; visits: number }[]>`
    -- events is partitioned by month: its size is its partitions', with its idempotency key (event_ids).
    select ((select sum(pg_total_relation_size(relid)) from pg_partition_tree('events')) + pg_total_relation_size('event_ids'))::float8 as raw,
           (select sum(pg_relation_size(relid)) from pg_partition_tree('events'))::float8 as raw_table,
           (select sum(pg_total_relation_size(c))::float8 from unnest(array['visits','page_visitors','visit_days','value_visitors']::regclass[]) c) as visits,
           (select sum(pg_total_relation_size(c))::float8 from unnest(array['rollup_hours','rollup_days','rollup_hour_paths',
              'rollup_day_paths','rollup_hour_types','rollup_day_types','user_months','rollup_minutes','minute_users']::regclass[]) c) as rollups`
  return row!
}

/**
 * A site's visits recounted from its raw events, independently of worker/visits: a visitor's
 * events in time order (ties by event_id in byte order), a new visit after a gap over 30 minutes,
 * each anonymous event a visit of its own, properties from the visit's first event.
 */
async function recountVisits(sql: postgres.Sql, site: string): Promise<void> {
  const ordered = `order by timestamp, event_id collate "C"`
  const first = (column: string, as = column) => `(array_agg(${column} ${ordered}))[1] as ${as}`
  await sql`drop table if exists bench_recount`
  await sql.unsafe(
    `create temporary table bench_recount as
     with e as (
       select *, case when user_id is null or lag(timestamp) over w is null or timestamp - lag(timestamp) over w > interval '30 minutes' then 1 else 0 end as starts
         from events where site_id = $1 window w as (partition by user_id ${ordered})
     ), numbered as (
       select *, coalesce(user_id, event_id) as visitor, user_id is null as anon,
              sum(starts) over (partition by user_id is null, coalesce(user_id, event_id) ${ordered}) as visit_no
         from e
     )
     select visitor, anon, min(timestamp) as started_at, max(timestamp) as ended_at, count(*)::int as events,
            (count(*) filter (where event_type = 'page_view'))::int as views, ${first('path', 'entry_page')},
            (array_agg(path order by timestamp desc, event_id collate "C" desc))[1] as exit_page, ${VISIT_PROPERTY_COLUMNS.map((column) => first(column)).join(', ')}
       from numbered group by visitor, anon, visit_no`,
    [site],
  )
}

/** The recount's answer to a breakdown question: the same rows, order and rounding the API promises. */
async function recountBreakdown(sql: postgres.Sql, site: string, property: BreakdownProperty, from: string, to: string, limit: number) {
  const start = `${from}T00:00:00Z`
  const end = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString()
  if (property === 'page') {
    const rows = await sql.unsafe<{ value: string; visitors: number; views: number }[]>(
      `select path as value, (count(distinct user_id) + count(*) filter (where user_id is null))::int as visitors, count(*)::int as views
         from events where site_id = $1 and event_type = 'page_view' and timestamp >= $2 and timestamp < $3
        group by path order by visitors desc, path collate "C" limit ${limit}`,
      [site, start, end],
    )
    return rows.map((row) => ({ ...row }))
  }
  const value = `coalesce(${property}, '${NOT_SET}')`
  const rows = await sql.unsafe<{ value: string; visits: number; visitors: number; bounces: number; duration_ms: number; views: number }[]>(
    `select ${value} as value, count(*)::int as visits,
            (count(distinct visitor) filter (where not anon) + count(*) filter (where anon))::int as visitors,
            (count(*) filter (where events = 1))::int as bounces,
            coalesce(sum(round(extract(epoch from ended_at - started_at) * 1000)), 0)::float8 as duration_ms, coalesce(sum(views), 0)::int as views
       from bench_recount where started_at >= $1 and started_at < $2 ${property.startsWith('utm_') ? `and ${property} is not null` : ''}
      group by 1 order by visitors desc, ${value} collate "C" limit ${limit}`,
    [start, end],
  )
  return rows.map(({ value, views, ...totals }) => {
    const m = visitMetrics({ ...totals, views })
    return { value, visitors: m.visitors, visits: m.visits, views, bounce_rate: m.bounce_rate, visit_duration: m.visit_duration }
  })
}

/**
 * Every property of a sample of sites (the busiest first), for one day and for the 30 days: the
 * API's first 100 rows equal the recount's. Returns the mismatches (none when all agree).
 */
async function checkBreakdowns(sql: postgres.Sql, baseUrl: string, siteIds: string[]): Promise<{ questions: number; rows: number; mismatches: string[] }> {
  const mismatches: string[] = []
  let questions = 0
  let rows = 0
  for (const site of siteIds) {
    const started = performance.now()
    await recountVisits(sql, site)
    const oneDay = day(Math.floor(Math.random() * DAYS))
    for (const [from, to] of [
      [oneDay, oneDay],
      [day(0), day(DAYS - 1)],
    ] as const) {
      for (const property of BREAKDOWN_PROPERTIES) {
        const range = from === to ? `date=${from}` : `from=${from}&to=${to}`
        const response = await fetch(`${baseUrl}/stats/breakdown?site_id=${site}&property=${property}&${range}&limit=100`)
        if (!response.ok) {
          mismatches.push(`${site} ${property} ${range}: answered ${response.status}`)
          continue
        }
        const answer = ((await response.json()) as { results: object[] }).results
        const expected = await recountBreakdown(sql, site, property, from, to, 100)
        questions++
        rows += expected.length
        if (JSON.stringify(answer) !== JSON.stringify(expected)) {
          const at = expected.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(answer[i]))
          const i = at === -1 ? expected.length : at
          mismatches.push(
            `${site} ${property} ${range}: row ${i} is ${JSON.stringify(answer[i])}, recount ${JSON.stringify(expected[i])} (${answer.length} / ${expected.length} rows)`,
          )
        }
      }
    }
    say(`breakdowns of ${site} checked against a recount (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  }
  await sql`drop table if exists bench_recount`
  return { questions, rows, mismatches }
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
  const sites = await sql<{ site_id: string; n: number }[]>`select site_id, sum(events)::float8 as n from rollup_days group by 1 order by 2 desc`
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
  const funnelIds = new Map(
    (await sql<{ site_id: string; funnel_id: string }[]>`select site_id, funnel_id::text from funnels`).map((row) => [row.site_id, row.funnel_id]),
  )
  for (const scenario of scenarios(
    sites[0]!.site_id,
    sites.map((s) => s.site_id),
    funnelIds,
  )) {
    const paths = scenario.questions.map((question) => question.path)
    await wrk(baseUrl, scenario.name, paths.slice(0, 20), scenario.connections) // warm-up
    const measured = await wrk(baseUrl, scenario.name, paths, scenario.connections)
    const ratio = await timeRatio(sql, baseUrl, scenario.questions)
    // No answer within wrk's 10 s timeout leaves no latency at all: that is no target met.
    const met = measured.requests > 0 && measured.p99 <= scenario.target.p99Ms && measured.errors === 0 && (ratio === null || ratio.raw / ratio.rollup >= 100)
    allMet &&= met
    rows.push([
      scenario.name,
      String(scenario.connections),
      `${(measured.requests / DURATION).toFixed(0)}/s`,
      measured.p50.toFixed(2),
      measured.p99.toFixed(2),
      `<= ${scenario.target.p99Ms}`,
      ratio ? ratio.rollup.toFixed(2) : '-',
      ratio ? ratio.raw.toFixed(1) : '-',
      ratio ? `${(ratio.raw / ratio.rollup).toFixed(0)}x` : '-',
      met ? 'yes' : 'NO',
    ])
  }
  await sql`drop index if exists bench_events_site_date`

  const others = sites.slice(1).sort(() => Math.random() - 0.5)
  const checked = await checkBreakdowns(
    sql,
    baseUrl,
    [sites[0]!, ...others].slice(0, values.checkSites).map((s) => s.site_id),
  )
  await sql.end()

  const header = ['question', 'conns', 'rate', 'p50 ms', 'p99 ms', 'target', 'alone p50 ms', 'raw alone p50 ms', 'raw/rollup p50', 'met']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')
  console.log(`\n${line(header)}\n${rows.map(line).join('\n')}`)
  console.log(
    `\nstorage: raw events ${mb(store.raw)} (table ${mb(store.raw_table)} + indexes), rollups ${mb(store.rollups)} = ` +
      `${((store.rollups / store.raw) * 100).toFixed(0)}% of raw (target <= 60%); visits, page_visitors, visit_days and value_visitors ${mb(store.visits)} more, ` +
      `${(((store.rollups + store.visits) / store.raw) * 100).toFixed(0)}% of raw with them`,
  )
  console.log(
    `rate, p50 and p99: wrk, 2 threads, "conns" connections, ${DURATION} s per question. "alone": the same ${RATIO_QUESTIONS} questions ` +
      `(sites and days) asked one at a time, from the product over HTTP (3 times each) and over raw events in SQL with the original ` +
      `(site, date) index; their p50s give the ratio`,
  )
  console.log(
    checked.mismatches.length === 0
      ? `breakdowns: ${checked.questions} answers (${checked.rows.toLocaleString()} rows, ${values.checkSites} sites × 15 properties × one day and 30 days) equal a recount of visits from raw events`
      : `breakdowns: ${checked.mismatches.length} of ${checked.questions} answers differ from the recount:\n  ${checked.mismatches.slice(0, 20).join('\n  ')}`,
  )
  if (!allMet || store.rollups / store.raw > 0.6 || checked.mismatches.length > 0) process.exitCode = 1
} finally {
  await api?.stop()
}
