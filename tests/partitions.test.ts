/**
 * Monthly partitions of the raw events: an event id of a site is stored once across partitions
 * (retries straddling a month's last millisecond, duplicates within and across batches), the prune
 * job creates the coming months and moves waiting events out of the default partition, and
 * RAW_RETENTION_DAYS drops whole months while rollups keep answering and what needs raw events says so.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { QueuedEvent } from '../lib/queue'
import { dropExpiredEvents, ensureEventPartitions, monthsAhead } from '../worker/jobs/partitions'
import { rebuildRollups } from '../worker/jobs/rebuild'
import { writeEventBatch } from '../worker/rollups/postgres'
import { startStack, type Stack } from './support'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('partitions')
})
afterAll(() => stack.close())

const LAST_MS = '2026-06-30T23:59:59.999Z'
const FIRST_MS = '2026-07-01T00:00:00.000Z'

const event = (siteId: string, eventId: string, timestamp: string, path = '/'): QueuedEvent => ({
  eventId,
  siteId,
  eventType: 'page_view',
  path,
  userId: null,
  timestamp,
  receivedAt: new Date().toISOString(),
})

/** Where each stored copy of the site's events is: partition and timestamp, by event id. */
async function stored(siteId: string) {
  return [
    ...(await stack.database.sql<{ event_id: string; partition: string; timestamp: string }[]>`
      select event_id, tableoid::regclass::text as partition, to_json(timestamp) #>> '{}' as timestamp
        from events where site_id = ${siteId} order by event_id, timestamp`),
  ]
}

const viewsOf = async (siteId: string) =>
  (await stack.database.sql<{ views: number }[]>`select coalesce(sum(views), 0)::int as views from rollup_days where site_id = ${siteId}`)[0]!.views

describe('the same event id of a site is stored once across partitions', () => {
  beforeAll(async () => {
    for (const month of ['2026-06-01', '2026-07-01']) await stack.database.sql`select ensure_event_partition(${month}::date)`
  })

  test('a retry after redelivery with the month’s last millisecond, then with the next month’s first, is stored once, where the first attempt put it', async () => {
    const site = 'straddle'
    const first = await writeEventBatch(stack.database.db, [event(site, 'e1', LAST_MS), event(site, 'e2', FIRST_MS)])
    expect(first).toEqual({ inserted: 2, duplicates: 0 })
    // A redelivered job: the same events again.
    expect(await writeEventBatch(stack.database.db, [event(site, 'e1', LAST_MS), event(site, 'e2', FIRST_MS)])).toEqual({ inserted: 0, duplicates: 2 })
    // A client retry that stamped its events anew: the other side of the boundary each time.
    expect(await writeEventBatch(stack.database.db, [event(site, 'e1', FIRST_MS), event(site, 'e2', LAST_MS)])).toEqual({ inserted: 0, duplicates: 2 })
    expect(await stored(site)).toEqual([
      { event_id: 'e1', partition: 'events_p202606', timestamp: '2026-06-30T23:59:59.999+00:00' },
      { event_id: 'e2', partition: 'events_p202607', timestamp: '2026-07-01T00:00:00+00:00' },
    ])
    expect(await viewsOf(site)).toBe(2)
  })

  test('duplicates within one batch, across batches and across partitions: the first copy is stored, each counted once', async () => {
    const site = 'dupes'
    const batchA = [
      event(site, 'a', LAST_MS, '/first'),
      event(site, 'a', FIRST_MS, '/second'),
      event(site, 'b', FIRST_MS),
      event(site, 'b', FIRST_MS),
      event(site, 'old', '2020-02-03T04:05:06.000Z'),
    ]
    expect(await writeEventBatch(stack.database.db, batchA)).toEqual({ inserted: 3, duplicates: 2 })
    const batchB = [event(site, 'b', LAST_MS), event(site, 'c', LAST_MS), event(site, 'old', FIRST_MS), event(site, 'c', FIRST_MS)]
    expect(await writeEventBatch(stack.database.db, batchB)).toEqual({ inserted: 1, duplicates: 3 })
    expect(await stored(site)).toEqual([
      { event_id: 'a', partition: 'events_p202606', timestamp: '2026-06-30T23:59:59.999+00:00' },
      { event_id: 'b', partition: 'events_p202607', timestamp: '2026-07-01T00:00:00+00:00' },
      { event_id: 'c', partition: 'events_p202606', timestamp: '2026-06-30T23:59:59.999+00:00' },
      // A month without a partition: kept in the default one.
      { event_id: 'old', partition: 'events_default', timestamp: '2020-02-03T04:05:06+00:00' },
    ])
    expect(await viewsOf(site)).toBe(4)
    const [paths] = await stack.database.sql`select count(*)::int as n from rollup_day_paths where site_id = ${site} and path = '/second'`
    expect(paths!.n).toBe(0)
    const [ledger] = await stack.database.sql`select written::int, duplicates::int from ingest_ledger where site_id = ${site}`
    expect(ledger).toEqual({ written: 4, duplicates: 5 })
  })

  test('the same event id on another site is another event', async () => {
    expect(await writeEventBatch(stack.database.db, [event('other-site', 'e1', LAST_MS)])).toEqual({ inserted: 1, duplicates: 0 })
  })

  test('through the API: the same event sent again with the next month’s first millisecond is counted once', async () => {
    const body = { site_id: 'api-site', event_type: 'page_view', path: '/', event_id: 'retry-1' }
    await stack.store([{ ...body, timestamp: LAST_MS }])
    await stack.store([{ ...body, timestamp: FIRST_MS }, { ...body, timestamp: LAST_MS }])
    expect((await stored('api-site')).map((row) => row.partition)).toEqual(['events_p202606'])
    await stack.flush()
    const [ledger] = await stack.database.sql`select accepted::int, written::int, duplicates::int from ingest_ledger where site_id = 'api-site'`
    expect(ledger).toEqual({ accepted: 3, written: 1, duplicates: 2 })
  })
})

describe('partitions are made ahead', () => {
  test('the migration made this month’s and the next two; the prune job’s call makes the ones missing and moves waiting events in', async () => {
    const now = new Date()
    const names = (months: string[]) => months.map((month) => `events_p${month.slice(0, 4)}${month.slice(5, 7)}`)
    const partitions = async () =>
      (await stack.database.sql<{ name: string }[]>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'events'::regclass`).map(
        (row) => row.name,
      )
    expect(await partitions()).toEqual(expect.arrayContaining([...names(monthsAhead(now)), 'events_default']))
    expect(await ensureEventPartitions(stack.database.db, now)).toEqual([])

    // Far ahead (as if the worker had been stopped for months): events of that month wait in the default partition.
    const later = new Date(Date.UTC(now.getUTCFullYear() + 3, 4, 15))
    const lateMonth = `${later.getUTCFullYear()}-05-01`
    await writeEventBatch(stack.database.db, [event('ahead', 'x1', later.toISOString()), event('ahead', 'x2', new Date(Date.UTC(later.getUTCFullYear(), 5, 1)).toISOString())])
    expect((await stored('ahead')).map((row) => row.partition)).toEqual(['events_default', 'events_default'])
    expect(await ensureEventPartitions(stack.database.db, later)).toEqual(monthsAhead(later))
    expect(monthsAhead(later)[0]).toBe(lateMonth)
    expect((await stored('ahead')).map((row) => row.partition)).toEqual(names([lateMonth, `${later.getUTCFullYear()}-06-01`]))
    expect(await partitions()).toEqual(expect.arrayContaining(names(monthsAhead(later))))
  })
})

describe('RAW_RETENTION_DAYS', () => {
  const site = 'kept-stats'
  const day = '2026-06-10'
  beforeAll(async () => {
    await stack.store([
      { site_id: site, event_type: 'page_view', path: '/a', user_id: 'u1', timestamp: `${day}T10:00:00Z`, event_id: 'k1' },
      { site_id: site, event_type: 'signup', path: '/a', user_id: 'u1', timestamp: `${day}T10:05:00Z`, event_id: 'k2' },
      // Old and without a partition of its own: in the default partition.
      { site_id: site, event_type: 'page_view', path: '/b', timestamp: '2025-01-02T00:00:00Z', event_id: 'k3' },
    ])
    const goal = await stack.post(`/sites/${site}/goals`, { name: 'Signed up', event_type: 'signup' }, { ...stack.adminHeaders, 'content-type': 'application/json' })
    expect(goal.status).toBe(201)
  })

  const statsBefore = () => stack.get(`/stats?site_id=${site}&from=${day}&to=${day}`).then((response) => response.json())

  test('drops the partitions of months wholly past it and the default partition’s older events; rollups, visits and event ids stay', async () => {
    const stats = await statsBefore()
    const visitsBefore = (await stack.database.sql`select count(*)::int as n from visits where site_id = ${site}`)[0]!.n
    // On 2026-09-15, 60 days back is 2026-07-17: the months before July go.
    const result = await dropExpiredEvents(stack.database.db, 60, new Date('2026-09-15T12:00:00Z'))
    expect(result.droppedBefore.toISOString()).toBe('2026-07-01T00:00:00.000Z')
    expect(result.months).toEqual(['2026-06'])
    expect(result.defaultRows).toBeGreaterThanOrEqual(2)
    expect(await stored(site)).toEqual([])
    // July's events are kept.
    expect((await stored('straddle')).map((row) => row.event_id)).toEqual(['e2'])
    expect(await stack.get(`/stats?site_id=${site}&from=${day}&to=${day}`).then((response) => response.json())).toEqual(stats)
    expect(stats.total_views).toBe(1)
    expect((await stack.database.sql`select count(*)::int as n from visits where site_id = ${site}`)[0]!.n).toBe(visitsBefore)
    // A late retry of a dropped event is still known, and not counted again.
    expect(await writeEventBatch(stack.database.db, [event(site, 'k1', `${day}T10:00:00.000Z`)])).toEqual({ inserted: 0, duplicates: 1 })
    // Again, or with a longer retention later: nothing more goes, and the boundary never moves back.
    expect((await dropExpiredEvents(stack.database.db, 60, new Date('2026-09-15T12:00:00Z'))).months).toEqual([])
    expect((await dropExpiredEvents(stack.database.db, 3650, new Date('2026-09-15T12:00:00Z'))).droppedBefore.toISOString()).toBe('2026-07-01T00:00:00.000Z')
  })

  test('what needs raw events says so: goals, properties and filters refuse the dropped months, and answer from the boundary on', async () => {
    for (const path of [
      `/stats/breakdown?site_id=${site}&property=goal&from=${day}&to=${day}`,
      `/stats/breakdown?site_id=${site}&property=props&from=${day}&to=${day}`,
      `/stats?site_id=${site}&from=${day}&to=${day}&filters=page==/a`,
      `/stats/timeseries?site_id=${site}&from=${day}&to=${day}&filters=page==/a`,
    ]) {
      const response = await stack.get(path)
      expect({ path, status: response.status }).toEqual({ path, status: 400 })
      expect((await response.json()).error).toContain('were dropped by RAW_RETENTION_DAYS; ask from 2026-07-01 on')
    }
    expect((await stack.get(`/stats/breakdown?site_id=${site}&property=goal&from=2026-07-01&to=2026-07-02`)).status).toBe(200)
  })

  test('a rebuild and a timezone change refuse, keeping the rollups; the export names the first instant kept', async () => {
    expect(rebuildRollups(stack.database.db, site)).rejects.toThrow(`not rebuilding ${site}: its raw events before 2026-07-01 (UTC) were dropped`)
    expect(rebuildRollups(stack.database.db, site, { from: '2026-08-01', to: '2026-08-31' })).rejects.toThrow('a rebuild recomputes the visits of its whole history')
    const put = await fetch(`${stack.baseUrl}/sites/${site}`, {
      method: 'PUT',
      headers: { ...stack.adminHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ timezone: 'Europe/Berlin' }),
    })
    expect(put.status).toBe(409)
    expect((await put.json()).error).toContain('cannot be recomputed in another zone')
    const [zone] = await stack.database.sql`select timezone from sites where site_id = ${site}`
    expect(zone!.timezone).toBe('UTC')
    expect(await viewsOf(site)).toBe(2)
    // A site whose events are all kept rebuilds as before.
    expect((await rebuildRollups(stack.database.db, 'ahead')).events).toBe(2)

    const all = await stack.get(`/sites/${site}/export?format=ndjson`, stack.adminHeaders)
    expect(all.status).toBe(200)
    expect(all.headers.get('raw-events-dropped-before')).toBe('2026-07-01T00:00:00.000Z')
    expect(await all.text()).toBe('')
    const recent = await stack.get(`/sites/straddle/export?format=ndjson&from=2026-07-01&to=2026-07-31`, stack.adminHeaders)
    expect(recent.headers.get('raw-events-dropped-before')).toBeNull()
    expect((await recent.text()).split('\n').filter(Boolean)).toHaveLength(1)
  })
})
