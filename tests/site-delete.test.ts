/**
 * DELETE /sites/:id?confirm=<id>: every row of the site's data goes (events, visits, visit
 * figures, every rollup, the ledger), counted right; its settings stay; another site is untouched;
 * the deleted site answers zeros and takes new events; the deletion waits for the site's lock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { pollUntil } from './kit/processes'
import { startStack, type Stack } from './support'

let stack: Stack
const DOOMED = 'doomed-site'
const KEPT = 'kept-site'
/** Tables that hold a site's settings rather than its data, kept: its zone, goals and funnels, shared links and API keys (with the sessions links opened), and who may read it. */
const SETTINGS = ['sites', 'goals', 'funnels', 'site_tokens', 'sessions', 'user_sites']

const json = { 'content-type': 'application/json' }
const admin = () => ({ ...stack.adminHeaders, ...json })

/** Sends events through the API and waits until the worker has written them. */
async function ingest(events: Record<string, unknown>[]) {
  const response = await stack.post('/events', { events }, { ...json, 'user-agent': 'curl/8.5.0' })
  expect(response.status).toBe(202)
  const { jobId } = (await response.json()) as { jobId: string }
  await stack.jobs.wait([jobId])
}

const day = '2025-11-14'
const eventsOf = (site: string, prefix: string) => [
  { site_id: site, event_type: 'page_view', path: '/', user_id: 'u1', timestamp: `${day}T09:00:00Z`, event_id: `${prefix}-1`, referrer: 'https://www.google.com/' },
  { site_id: site, event_type: 'page_view', path: '/pricing', user_id: 'u1', timestamp: `${day}T09:05:00Z`, event_id: `${prefix}-2` },
  { site_id: site, event_type: 'signup', path: '/signup', user_id: 'u1', timestamp: `${day}T09:06:00Z`, event_id: `${prefix}-3`, props: { plan: 'pro' } },
  { site_id: site, event_type: 'page_view', path: '/', timestamp: `${day}T11:00:00Z`, event_id: `${prefix}-4`, country: 'DE', utm_source: 'news' },
  // Recent, so the realtime rollups have rows too.
  { site_id: site, event_type: 'page_view', path: '/now', user_id: 'u2', timestamp: new Date().toISOString(), event_id: `${prefix}-5` },
]

/** Tables with a site_id column (a partitioned table counts the rows of its partitions), and the rows each holds for `site`. */
async function rowsPerTable(site: string): Promise<Record<string, number>> {
  const tables = await stack.database.sql<{ table_name: string }[]>`
    select c.table_name from information_schema.columns c join pg_class r on r.oid = format('%I', c.table_name)::regclass
     where c.table_schema = 'public' and c.column_name = 'site_id' and not r.relispartition order by c.table_name`
  const counts: Record<string, number> = {}
  for (const { table_name } of tables) {
    const [row] = await stack.database.sql<{ count: number }[]>`select count(*)::int as count from ${stack.database.sql(table_name)} where site_id = ${site}`
    counts[table_name] = row!.count
  }
  return counts
}

const sum = (counts: Record<string, number>, tables: string[]) => tables.reduce((total, table) => total + counts[table]!, 0)
const ROLLUPS = [
  'rollup_hours',
  'rollup_days',
  'rollup_hour_paths',
  'rollup_day_paths',
  'rollup_hour_types',
  'rollup_day_types',
  'page_visitors',
  'user_months',
  'rollup_minutes',
  'minute_users',
]

beforeAll(async () => {
  stack = await startStack('site_delete')
  for (const site of [DOOMED, KEPT]) {
    await ingest(eventsOf(site, site))
    // A refusal counted under the (now known) site, and the API's accepted counts written.
    expect((await stack.post('/event', { site_id: site, event_type: 'page_view', timestamp: 'soon' })).status).toBe(400)
    const zone = await fetch(`${stack.baseUrl}/sites/${site}`, { method: 'PUT', headers: admin(), body: JSON.stringify({ timezone: 'Europe/Berlin' }) })
    expect(zone.status).toBe(202)
    await stack.jobs.wait([((await zone.json()) as { jobId: string }).jobId])
    const goals: string[] = []
    for (const goal of [{ page: '/pricing' }, { event_type: 'signup', name: 'Signed up' }]) {
      const response = await stack.post(`/sites/${site}/goals`, goal, admin())
      expect(response.status).toBe(201)
      goals.push(((await response.json()) as { goal_id: string }).goal_id)
    }
    expect((await stack.post(`/sites/${site}/funnels`, { name: 'Pricing to sign-up', steps: goals }, admin())).status).toBe(201)
  }
  await stack.flush()
})
afterAll(() => stack.close())

const del = (site: string, confirm?: string, headers: Record<string, string> = admin()) =>
  fetch(`${stack.baseUrl}/sites/${encodeURIComponent(site)}${confirm === undefined ? '' : `?confirm=${encodeURIComponent(confirm)}`}`, {
    method: 'DELETE',
    headers,
  })

describe('refused without the site id confirmed, and nothing deleted', () => {
  test.each([
    ['no confirm', undefined],
    ['an empty confirm', ''],
    ['another site', KEPT],
    ['another case', DOOMED.toUpperCase()],
    ['a prefix', 'doomed'],
  ])('%s', async (_, confirm) => {
    const before = await rowsPerTable(DOOMED)
    const response = await del(DOOMED, confirm)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: `confirm must be the site id: send DELETE /sites/${DOOMED}?confirm=${DOOMED} to delete this site's data` })
    expect(await rowsPerTable(DOOMED)).toEqual(before)
  })

  test('a confirm that is no text is refused naming confirm', async () => {
    const response = await fetch(`${stack.baseUrl}/sites/${DOOMED}?confirm=a%00b`, { method: 'DELETE', headers: admin() })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: 'confirm must be the site id, as in DELETE /sites/<id>?confirm=<id>' })
  })

  test('admin only: a reader on loopback gets 401', async () => {
    const response = await del(DOOMED, DOOMED, {})
    expect(response.status).toBe(401)
    expect((await rowsPerTable(DOOMED)).events).toBe(5)
  })
})

describe('deleting a site', () => {
  let before: Record<string, number>
  let other: Record<string, number>
  let answer: { site_id: string; deleted: Record<string, number> }

  beforeAll(async () => {
    before = await rowsPerTable(DOOMED)
    other = await rowsPerTable(KEPT)
    const response = await del(DOOMED, DOOMED)
    expect(response.status).toBe(200)
    answer = (await response.json()) as typeof answer
  })

  test('answers the rows removed, by kind', () => {
    // Every kind had rows to remove, so each count is tested.
    for (const table of Object.keys(before).filter((name) => !SETTINGS.includes(name))) expect({ table, rows: before[table]! > 0 }).toEqual({ table, rows: true })
    expect(answer).toEqual({
      site_id: DOOMED,
      deleted: {
        events: before.events!,
        visits: before.visits!,
        visit_figure_rows: sum(before, ['visit_days', 'value_visitors']),
        rollup_rows: sum(before, ROLLUPS),
        ledger_rows: sum(before, ['ingest_ledger', 'ingest_refusals', 'ingest_refusal_hours']),
      },
    })
    expect(answer.deleted.events).toBe(5)
    // Its idempotency keys go with its events, uncounted (each was an event).
    expect(before.event_ids).toBe(5)
  })

  test('leaves no row of its data in any table, and keeps its settings', async () => {
    const after = await rowsPerTable(DOOMED)
    // Every table with a site_id is either data (emptied) or settings (kept): a new table must be put on one side.
    const data = Object.keys(after).filter((table) => !SETTINGS.includes(table))
    expect(data.sort()).toEqual(['event_ids', 'events', 'ingest_ledger', 'ingest_refusals', 'ingest_refusal_hours', 'value_visitors', 'visit_days', 'visits', ...ROLLUPS].sort())
    for (const table of data) expect({ table, rows: after[table] }).toEqual({ table, rows: 0 })
    expect({ sites: after.sites, goals: after.goals, funnels: after.funnels }).toEqual({ sites: 1, goals: 2, funnels: 1 })
    const [site] = await stack.database.sql`select timezone, rollup_timezone, first_event_at, last_event_at from sites where site_id = ${DOOMED}`
    expect(site).toEqual({ timezone: 'Europe/Berlin', rollup_timezone: 'Europe/Berlin', first_event_at: null, last_event_at: null })
  })

  test('another site is untouched', async () => {
    expect(await rowsPerTable(KEPT)).toEqual(other)
    const stats = (await (await stack.get(`/stats?site_id=${KEPT}&date=${day}`)).json()) as { total_views: number }
    expect(stats.total_views).toBe(3)
  })

  test('its stats answer zeros', async () => {
    expect(await (await stack.get(`/stats?site_id=${DOOMED}&date=${day}`)).json()).toEqual({
      site_id: DOOMED,
      date: day,
      total_views: 0,
      unique_users: 0,
      top_paths: [],
    })
    const range = await (await stack.get(`/stats?site_id=${DOOMED}&from=${day}&to=${day}`)).json()
    expect(range).toMatchObject({ total_views: 0, unique_users: 0, visitors: 0, visits: 0, event_types: [] })
    for (const property of ['source', 'page', 'country', 'props:plan']) {
      const breakdown = (await (await stack.get(`/stats/breakdown?site_id=${DOOMED}&date=${day}&property=${property}`)).json()) as { results: unknown[] }
      expect({ property, results: breakdown.results }).toEqual({ property, results: [] })
    }
    const goals = (await (await stack.get(`/stats/breakdown?site_id=${DOOMED}&date=${day}&property=goal`)).json()) as { results: unknown[] }
    expect(goals.results).toEqual([
      { value: '/pricing', visitors: 0, events: 0, conversion_rate: 0 },
      { value: 'Signed up', visitors: 0, events: 0, conversion_rate: 0 },
    ])
    const series = (await (await stack.get(`/stats/timeseries?site_id=${DOOMED}&from=${day}&to=${day}`)).json()) as { buckets: { views: number; visits: number }[] }
    expect(series.buckets.length).toBe(24)
    expect(series.buckets.every((bucket) => bucket.views === 0 && bucket.visits === 0)).toBe(true)
    const realtime = (await (await stack.get(`/stats/realtime?site_id=${DOOMED}`)).json()) as { last_5_minutes: { events: number } }
    expect(realtime.last_5_minutes.events).toBe(0)
    const { sites } = (await (await stack.get('/sites')).json()) as { sites: { site_id: string; total_events: number; first_event_at: string | null }[] }
    expect(sites.find((site) => site.site_id === DOOMED)).toMatchObject({ total_events: 0, first_event_at: null })
    const { sites: ledger } = (await (await stack.get(`/ingest/ledger?site_id=${DOOMED}`)).json()) as { sites: unknown[] }
    expect(ledger).toEqual([])
  })

  test('deleting again removes nothing more', async () => {
    expect(await (await del(DOOMED, DOOMED)).json()).toEqual({
      site_id: DOOMED,
      deleted: { events: 0, visits: 0, visit_figure_rows: 0, rollup_rows: 0, ledger_rows: 0 },
    })
  })

  test('new events are taken and counted again, the same event ids included', async () => {
    await ingest(eventsOf(DOOMED, DOOMED))
    const stats = (await (await stack.get(`/stats?site_id=${DOOMED}&from=${day}&to=${day}`)).json()) as Record<string, number>
    expect(stats).toMatchObject({ total_views: 3, unique_users: 1, visitors: 2, visits: 2 })
    expect((await rowsPerTable(DOOMED)).events).toBe(5)
    const exported = await (await stack.get(`/sites/${DOOMED}/export?format=ndjson`, stack.adminHeaders)).text()
    expect(exported.trim().split('\n').length).toBe(5)
  })
})

test("the deletion waits for the site's lock, the one the worker's batches and rebuilds take", async () => {
  await ingest(eventsOf(KEPT, 'late'))
  const holder = await stack.database.sql.reserve()
  try {
    await holder`select pg_advisory_lock(hashtext(${KEPT}))`
    const deletion = del(KEPT, KEPT)
    // Waiting on the advisory lock, with every row still there.
    await pollUntil(
      'the deletion to wait for the lock',
      async () => {
        const [row] = await stack.database.sql<{ waiting: number }[]>`
          select count(*)::int as waiting from pg_stat_activity
           where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`
        return row!.waiting === 1
      },
      10_000,
    )
    expect((await rowsPerTable(KEPT)).events).toBe(10)
    await holder`select pg_advisory_unlock(hashtext(${KEPT}))`
    const answer = (await (await deletion).json()) as { deleted: { events: number } }
    expect(answer.deleted.events).toBe(10)
  } finally {
    await holder`select pg_advisory_unlock_all()`
    holder.release()
  }
})
