/**
 * Every number the stats API returns must equal a recount over the raw events table for the same
 * question (DESIGN §1.3). Random events, sent out of order, with duplicates, late arrivals, null
 * users and several event types, across zones with odd offsets and a DST change.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rebuildRollups } from '../worker/jobs/rebuild'
import { startStack, type Stack } from './support'

let stack: Stack

// A small deterministic generator, so a failure can be replayed.
let seed = 20251114
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return seed / 2_147_483_648
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
/** Skewed choice: low indexes far more often, as real paths and users are. */
const skewed = <T>(items: readonly T[]): T => items[Math.floor(items.length * random() ** 2.5)]!

const SITES = {
  'o-utc': 'UTC',
  'o-kolkata': 'Asia/Kolkata', // +05:30
  'o-kathmandu': 'Asia/Kathmandu', // +05:45
  'o-newyork': 'America/New_York', // DST ends 2025-11-02
} as const
type SiteId = keyof typeof SITES
const PATHS = Array.from({ length: 40 }, (_, i) => `/page/${i}`)
const USERS = Array.from({ length: 300 }, (_, i) => `user-${i}`)
const TYPES = ['page_view', 'page_view', 'page_view', 'page_view', 'click', 'click', 'signup'] as const
const START = Date.parse('2025-10-25T00:00:00Z')
const SPAN_MS = 16 * 86_400_000

interface Event {
  site_id: string
  event_type: string
  path: string
  user_id?: string | null
  timestamp: string
  event_id: string
}

function randomEvent(i: number): Event {
  const user = random() < 0.2 ? null : skewed(USERS)
  return {
    site_id: pick(Object.keys(SITES) as SiteId[]),
    event_type: pick(TYPES),
    path: skewed(PATHS),
    ...(user === null && random() < 0.5 ? {} : { user_id: user }),
    timestamp: new Date(START + Math.floor((random() * SPAN_MS) / 1000) * 1000).toISOString(),
    event_id: `ev-${i}`,
  }
}

async function postAll(events: Event[]): Promise<void> {
  const jobIds: string[] = []
  for (let i = 0; i < events.length; i += 500) {
    const response = await stack.post('/events', { events: events.slice(i, i + 500) })
    expect(response.status).toBe(202)
    jobIds.push(((await response.json()) as { jobId: string }).jobId)
  }
  await stack.jobs.wait(jobIds)
}

beforeAll(async () => {
  stack = await startStack('oracle')
  for (const [site, timezone] of Object.entries(SITES)) {
    const response = await fetch(`${stack.baseUrl}/sites/${site}`, { method: 'PUT', body: JSON.stringify({ timezone }), headers: stack.adminHeaders })
    expect(response.status).toBe(202)
    await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
  }
  const events = Array.from({ length: 5_000 }, (_, i) => randomEvent(i))
  // Shuffled: timestamps arrive out of order. Then 400 repeats (same event_id) and a late
  // batch of events days in the past, after everything else.
  events.sort(() => random() - 0.5)
  const repeats = Array.from({ length: 400 }, () => pick(events))
  const late = Array.from({ length: 300 }, (_, i) => ({
    ...randomEvent(10_000 + i),
    timestamp: new Date(START + Math.floor(random() * 3 * 86_400_000)).toISOString(),
  }))
  await postAll(events)
  await postAll(repeats)
  await postAll(late)
})
afterAll(() => stack.close())

/** The oracle: a recount over raw events for [from 00:00, to + 1 00:00) in tz. */
async function recount(site: string, from: string, to: string, tz: string, limit = 10) {
  const sql = stack.database.sql
  const window = sql`site_id = ${site} and timestamp >= (${from}::date::timestamp at time zone ${tz})
                     and timestamp < ((${to}::date + 1)::timestamp at time zone ${tz})`
  const [totals] =
    await sql`select count(*) filter (where event_type = 'page_view')::int as views, count(distinct user_id)::int as users from events where ${window}`
  const paths = await sql`select path, count(*)::int as views from events where ${window} and event_type = 'page_view'
                          group by path order by views desc, path collate "C" limit ${limit}`
  const types = await sql`select event_type, count(*)::int as count from events where ${window}
                          group by event_type order by count desc, event_type collate "C"`
  return {
    total_views: totals!.views,
    unique_users: totals!.users,
    top_paths: paths.map((row) => ({ path: row.path, views: row.views })),
    event_types: types.map((row) => ({ event_type: row.event_type, count: row.count })),
  }
}

/** /stats without its visit figures, which tests/visits-oracle.test.ts compares with a recount of visits. */
async function stats(query: string) {
  const response = await stack.get(`/stats?${query}`)
  const {
    visitors: _,
    visits: __,
    bounce_rate: ___,
    visit_duration: ____,
    views_per_visit: _____,
    ...body
  } = (await response.json()) as Record<string, unknown>
  return { status: response.status, body }
}

/** Questions each site must answer exactly: (from, to, tz). */
const ANSWERABLE: Record<SiteId, [string, string, string][]> = {
  'o-utc': [
    ['2025-10-25', '2025-10-25', 'UTC'],
    ['2025-10-25', '2025-11-09', 'UTC'],
    ['2025-10-28', '2025-11-03', 'Europe/Paris'],
    ['2025-11-01', '2025-11-03', 'America/New_York'],
    ['2025-10-30', '2025-10-30', 'Asia/Tokyo'],
  ],
  'o-kolkata': [
    ['2025-10-26', '2025-10-26', 'Asia/Kolkata'],
    ['2025-10-25', '2025-11-09', 'Asia/Kolkata'],
    ['2025-10-27', '2025-10-29', 'Asia/Colombo'], // also +05:30
  ],
  'o-kathmandu': [
    ['2025-11-04', '2025-11-04', 'Asia/Kathmandu'],
    ['2025-10-25', '2025-11-09', 'Asia/Kathmandu'],
  ],
  'o-newyork': [
    ['2025-11-02', '2025-11-02', 'America/New_York'], // the 25-hour day
    ['2025-10-31', '2025-11-05', 'America/New_York'],
    ['2025-10-30', '2025-11-04', 'UTC'],
    ['2025-11-01', '2025-11-03', 'Europe/London'],
  ],
}

describe('GET /stats equals a recount over raw events', () => {
  for (const [site, questions] of Object.entries(ANSWERABLE)) {
    for (const [from, to, tz] of questions) {
      test(`${site} ${from}..${to} in ${tz}`, async () => {
        const { status, body } = await stats(`site_id=${site}&from=${from}&to=${to}&tz=${encodeURIComponent(tz)}&limit=15`)
        expect(status).toBe(200)
        expect(body).toEqual({ site_id: site, from, to, timezone: tz, ...(await recount(site, from, to, tz, 15)) })
        expect((body.total_views as number) + (body.unique_users as number)).toBeGreaterThan(0)
      })
    }
  }

  test("without tz, days are the site zone's and the answer names it; the original parameters keep the original shape", async () => {
    for (const site of Object.keys(SITES) as SiteId[]) {
      const { body } = await stats(`site_id=${site}&date=2025-11-02`)
      const { event_types: _, ...expected } = await recount(site, '2025-11-02', '2025-11-02', SITES[site])
      expect(body).toEqual({ site_id: site, date: '2025-11-02', ...expected })
      const range = await stats(`site_id=${site}&from=2025-10-31&to=2025-11-03`)
      expect(range.body).toEqual({
        site_id: site,
        from: '2025-10-31',
        to: '2025-11-03',
        timezone: SITES[site],
        ...(await recount(site, '2025-10-31', '2025-11-03', SITES[site])),
      })
    }
  })

  test.each([
    ['o-utc', 'Asia/Kolkata', '2025-10-26 00:00'],
    ['o-kolkata', 'UTC', '2025-10-26 00:00'],
    ['o-kathmandu', 'Asia/Kolkata', '2025-10-26 00:00'],
  ])('%s in %s cannot be answered exactly: 400 saying why', async (site, tz, boundary) => {
    const { status, body } = await stats(`site_id=${site}&from=2025-10-26&to=2025-10-27&tz=${encodeURIComponent(tz)}`)
    expect(status).toBe(400)
    expect(body.error).toStartWith(`tz ${tz} cannot be answered exactly: its boundary ${boundary} falls inside an hour of ${SITES[site as SiteId]}`)
  })
})

describe('GET /stats/timeseries equals a recount per bucket', () => {
  const cases: [SiteId, string, string, 'hour' | 'day' | 'week' | 'month', string][] = [
    ['o-utc', '2025-10-25', '2025-11-09', 'day', 'UTC'],
    ['o-utc', '2025-10-30', '2025-10-31', 'hour', 'UTC'],
    ['o-utc', '2025-10-25', '2025-11-09', 'day', 'Europe/Paris'],
    ['o-kolkata', '2025-10-25', '2025-11-09', 'week', 'Asia/Kolkata'],
    ['o-kathmandu', '2025-10-25', '2025-11-09', 'month', 'Asia/Kathmandu'],
    ['o-newyork', '2025-11-01', '2025-11-03', 'hour', 'America/New_York'],
    ['o-newyork', '2025-10-25', '2025-11-09', 'day', 'America/New_York'],
    ['o-newyork', '2025-10-25', '2025-11-09', 'week', 'UTC'],
  ]
  for (const [site, from, to, interval, tz] of cases) {
    test(`${site} ${interval} ${from}..${to} in ${tz}`, async () => {
      const response = await stack.get(`/stats/timeseries?site_id=${site}&from=${from}&to=${to}&interval=${interval}&tz=${encodeURIComponent(tz)}`)
      expect(response.status).toBe(200)
      const body = (await response.json()) as { buckets: { start: string; views: number; unique_users: number }[] }
      const sql = stack.database.sql
      // Independent bucketing: group raw events by their local bucket label, clipped to the range.
      // Hours are grouped as UTC hours (these zones are whole hours from UTC), since a local
      // label would merge the two 01:00 hours of a DST fall-back.
      const bucket = interval === 'hour' ? sql`date_trunc('hour', timestamp)` : sql`date_trunc(${interval}, timestamp at time zone ${tz}) at time zone ${tz}`
      const expected = await sql`
        with range as (select (${from}::date::timestamp at time zone ${tz}) as start, ((${to}::date + 1)::timestamp at time zone ${tz}) as stop)
        select to_json(greatest(${bucket}, range.start)) #>> '{}' as start,
               count(*) filter (where event_type = 'page_view')::int as views, count(distinct user_id)::int as unique_users
          from events, range
         where site_id = ${site} and timestamp >= range.start and timestamp < range.stop
         group by 1`
      const byStart = new Map(expected.map((row) => [new Date(row.start).toISOString(), { views: row.views, unique_users: row.unique_users }]))
      for (const bucket of body.buckets) {
        expect({ start: bucket.start, views: bucket.views, unique_users: bucket.unique_users }).toEqual({
          start: bucket.start,
          ...(byStart.get(bucket.start) ?? { views: 0, unique_users: 0 }),
        })
        byStart.delete(bucket.start)
      }
      expect([...byStart.keys()]).toEqual([]) // no event fell outside the buckets returned
      if (interval === 'hour') expect(body.buckets.length).toBe(tz === 'America/New_York' ? 73 : 48) // Nov 2 has 25 hours
    })
  }
})

describe('GET /sites and /stats/realtime', () => {
  test('/sites totals and first/last events equal the raw table', async () => {
    const body = (await (await stack.get('/sites')).json()) as { sites: Record<string, unknown>[] }
    const expected = await stack.database.sql`
      select site_id, count(*)::int as total_events, count(*) filter (where event_type = 'page_view')::int as total_views,
             min(timestamp) as first, max(timestamp) as last
        from events group by site_id order by site_id`
    expect(body.sites.map((s) => [s.site_id, s.timezone, s.total_events, s.total_views, s.first_event_at, s.last_event_at])).toEqual(
      expected.map((row) => [
        row.site_id,
        SITES[row.site_id as SiteId],
        row.total_events,
        row.total_views,
        new Date(row.first).toISOString(),
        new Date(row.last).toISOString(),
      ]),
    )
  })

  test('realtime counts equal the raw events of the last minutes', async () => {
    const now = Date.now()
    const recent = Array.from({ length: 200 }, (_, i) => ({
      ...randomEvent(20_000 + i),
      site_id: 'o-realtime',
      timestamp: new Date(now - Math.floor(random() * 29 * 60_000)).toISOString(),
    }))
    await postAll(recent)
    const body = (await (await stack.get('/stats/realtime?site_id=o-realtime')).json()) as {
      now: string
      last_5_minutes: { events: number; unique_users: number }
      per_minute: { minute: string; events: number }[]
    }
    const sql = stack.database.sql
    const minute = sql`date_trunc('minute', ${body.now}::timestamptz)`
    const [last5] = await sql`select count(*)::int as events, count(distinct user_id)::int as users from events
                                where site_id = 'o-realtime' and timestamp >= ${minute} - interval '4 minutes' and timestamp < ${minute} + interval '1 minute'`
    expect(body.last_5_minutes).toEqual({ events: last5!.events, unique_users: last5!.users })
    const perMinute = await sql`select to_json(date_trunc('minute', timestamp)) #>> '{}' as minute, count(*)::int as events from events
                                  where site_id = 'o-realtime' and timestamp >= ${minute} - interval '29 minutes' group by 1`
    const expected = new Map(perMinute.map((row) => [new Date(row.minute).toISOString(), row.events]))
    expect(body.per_minute.length).toBe(30)
    expect(body.per_minute.reduce((sum, m) => sum + m.events, 0)).toBe(200)
    for (const m of body.per_minute) expect(m.events).toBe(expected.get(m.minute) ?? 0)
  })
})

describe('rebuilds', () => {
  const snapshot = async (site: string) =>
    stack.database.sql`
      select (select json_agg(r order by hour) from rollup_hours r where site_id = ${site}) as hours,
             (select json_agg(r order by day) from rollup_days r where site_id = ${site}) as days,
             (select json_agg(r order by hour, path) from rollup_hour_paths r where site_id = ${site}) as hour_paths,
             (select json_agg(r order by day, event_type) from rollup_day_types r where site_id = ${site}) as day_types,
             (select json_agg(r order by month, user_id) from user_months r where site_id = ${site}) as users,
             (select json_agg(r order by hour, path_key, visitor_key, anonymous) from page_visitors r where site_id = ${site}) as page_visitors,
             (select json_agg(r order by visitor_id, anonymous, started_at) from visits r where site_id = ${site}) as visits`

  test('rebuilding from raw events gives exactly the rollups the worker kept (whole and by range)', async () => {
    for (const site of Object.keys(SITES)) {
      const before = await snapshot(site)
      await rebuildRollups(stack.database.db, site)
      expect(await snapshot(site)).toEqual(before)
      await rebuildRollups(stack.database.db, site, { from: '2025-11-01', to: '2025-11-03' })
      expect(await snapshot(site)).toEqual(before)
    }
  })

  test('a timezone change rebuilds the site in its new zone; answers follow', async () => {
    const response = await fetch(`${stack.baseUrl}/sites/o-utc`, {
      method: 'PUT',
      body: JSON.stringify({ timezone: 'Asia/Kolkata' }),
      headers: stack.adminHeaders,
    })
    expect(response.status).toBe(202)
    const { jobId } = (await response.json()) as { jobId: string }
    const rebuild = async (site = 'o-utc', job = jobId) => {
      const answer = await fetch(`${stack.baseUrl}/sites/${site}/rebuild/${job}`, { headers: stack.adminHeaders })
      return { status: answer.status, body: (await answer.json()) as Record<string, unknown> }
    }
    const early = await rebuild()
    expect(early.status).toBe(200)
    expect(['waiting', 'active', 'completed']).toContain(early.body.state as string)
    expect(early.body.timezone).toBe('Asia/Kolkata')
    await stack.jobs.wait([jobId])
    expect(await rebuild()).toEqual({
      status: 200,
      body: { site_id: 'o-utc', job_id: jobId, state: 'completed', progress: 100, timezone: 'Asia/Kolkata', rollup_timezone: 'Asia/Kolkata' },
    })
    expect((await rebuild('o-newyork')).status).toBe(404) // another site's job
    expect(await rebuild('o-utc', 'x1')).toEqual({ status: 400, body: { error: 'Invalid payload', details: ['job_id must be the jobId PUT /sites/:id answered'] } })
    const { body } = await stats('site_id=o-utc&from=2025-10-28&to=2025-11-02')
    expect(body).toEqual({
      site_id: 'o-utc',
      from: '2025-10-28',
      to: '2025-11-02',
      timezone: 'Asia/Kolkata',
      ...(await recount('o-utc', '2025-10-28', '2025-11-02', 'Asia/Kolkata')),
    })
    expect((await stats('site_id=o-utc&from=2025-10-28&to=2025-11-02&tz=UTC')).status).toBe(400)
  })

  test('PUT /sites refuses an unknown timezone and changes nothing', async () => {
    const response = await fetch(`${stack.baseUrl}/sites/o-newyork`, {
      method: 'PUT',
      body: JSON.stringify({ timezone: 'Mars/Olympus' }),
      headers: stack.adminHeaders,
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: 'tz must be an IANA timezone name such as Europe/Paris; "Mars/Olympus" is not one' })
    const [row] = await stack.database.sql`select timezone from sites where site_id = 'o-newyork'`
    expect(row!.timezone).toBe('America/New_York')
  })
})
