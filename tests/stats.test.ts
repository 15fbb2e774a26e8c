import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startStack, type Stack } from './support'
import { writeEventBatch } from '../worker/rollups/postgres'
import { dayMasks } from '../server/stats/buckets'
import type { QueuedEvent } from '../lib/queue'
import { MAX_RANGE_DAYS } from '../lib/range-limits'
import { MAX_OTHER_ZONE_DAYS } from '../lib/range-limits'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('stats')
})
afterAll(() => stack.close())

let sequence = 0
function event(siteId: string, timestamp: string, fields: Partial<QueuedEvent> = {}): QueuedEvent {
  sequence += 1
  return { eventId: `e${sequence}`, siteId, eventType: 'page_view', path: '/', userId: null, timestamp, receivedAt: new Date().toISOString(), ...fields }
}

async function stats(query: string) {
  const response = await stack.get(`/stats?${query}`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('GET /stats semantics', () => {
  test('days are UTC days: 23:59:59Z and 00:00:00Z the next day land on different dates', async () => {
    await writeEventBatch(stack.database.db, [
      event('edge', '2025-11-14T23:59:59Z', { path: '/late' }),
      event('edge', '2025-11-15T00:00:00Z', { path: '/early' }),
      event('edge', '2025-11-15T01:30:00+02:00', { path: '/offset' }), // 23:30Z on the 14th
    ])
    const first = await stats('site_id=edge&date=2025-11-14')
    expect(first.body.total_views).toBe(2)
    expect(first.body.top_paths).toEqual([
      { path: '/late', views: 1 },
      { path: '/offset', views: 1 },
    ])
    const second = await stats('site_id=edge&date=2025-11-15')
    expect(second.body.total_views).toBe(1)
    expect(second.body.top_paths).toEqual([{ path: '/early', views: 1 }])
  })

  test('top paths: views descending, ties by path ascending in byte order, at most 10', async () => {
    const day = '2025-11-14T12:00:00Z'
    const views: Record<string, number> = { '/b': 3, '/a': 3, '/c': 3, '/Z': 3, '/top': 5 }
    for (let i = 0; i < 8; i++) views[`/tail-${i}`] = 1
    await writeEventBatch(
      stack.database.db,
      Object.entries(views).flatMap(([path, count]) => Array.from({ length: count }, () => event('ranking', day, { path }))),
    )
    const { body } = await stats('site_id=ranking&date=2025-11-14')
    expect(body.total_views).toBe(5 + 4 * 3 + 8)
    expect(body.top_paths).toEqual([
      { path: '/top', views: 5 },
      { path: '/Z', views: 3 },
      { path: '/a', views: 3 },
      { path: '/b', views: 3 },
      { path: '/c', views: 3 },
      ...[0, 1, 2, 3, 4].map((i) => ({ path: `/tail-${i}`, views: 1 })),
    ])
  })

  test('unique users: distinct non-null user_id over all event types; views count page_view only', async () => {
    const day = '2025-11-14T09:00:00Z'
    await writeEventBatch(stack.database.db, [
      event('users', day, { userId: 'u1' }),
      event('users', day, { userId: 'u1' }),
      event('users', day, { userId: null }),
      event('users', day, { userId: null }),
      event('users', day, { userId: 'u2', eventType: 'click', path: '/button' }),
      event('users', day, { userId: 'u3', eventType: 'signup', path: '/signup' }),
    ])
    const { body } = await stats('site_id=users&date=2025-11-14')
    expect(body.total_views).toBe(4)
    expect(body.unique_users).toBe(3)
    expect(body.top_paths).toEqual([{ path: '/', views: 4 }])
  })

  test('date defaults to today in UTC', async () => {
    const now = new Date().toISOString()
    await writeEventBatch(stack.database.db, [event('today', now, { userId: 'u1' })])
    const { body } = await stats('site_id=today')
    const after = new Date().toISOString().slice(0, 10)
    const eventDay = now.slice(0, 10)
    expect([eventDay, after]).toContain(body.date as string)
    // Midnight may pass between writing and asking; the event then belongs to the day before.
    expect(body.total_views).toBe(body.date === eventDay ? 1 : 0)
  })

  test('an unknown site gives zeros and no paths', async () => {
    expect((await stats('site_id=never-seen&date=2025-11-14')).body).toEqual({
      site_id: 'never-seen',
      date: '2025-11-14',
      total_views: 0,
      unique_users: 0,
      top_paths: [],
    })
  })

  test('sites are isolated from each other', async () => {
    await writeEventBatch(stack.database.db, [event('iso-a', '2025-11-14T10:00:00Z'), event('iso-b', '2025-11-14T10:00:00Z')])
    expect((await stats('site_id=iso-a&date=2025-11-14')).body.total_views).toBe(1)
  })
})

describe('GET /stats refuses bad parameters', () => {
  test.each(['', 'site_id=', 'date=2025-11-14'])('missing site_id (%p) gives the contract body', async (query) => {
    expect(await stats(query)).toEqual({ status: 400, body: { error: 'site_id query parameter is required' } })
  })

  test.each(['2025-13-01', '2025-02-30', '14-11-2025', '2025-11-14T00:00:00Z', 'today', ''])('malformed date %p', async (date) => {
    expect(await stats(`site_id=s&date=${encodeURIComponent(date)}`)).toEqual({
      status: 400,
      body: { error: 'date must be a calendar date in YYYY-MM-DD format' },
    })
  })

  test('a leap day is a valid date', async () => {
    expect((await stats('site_id=s&date=2024-02-29')).status).toBe(200)
  })
})

test('day masks: one bit per calendar date, grouped by month', () => {
  expect(dayMasks('2025-10-30', '2025-11-02')).toEqual([
    { month: '2025-10-01', day_mask: (1 << 29) | (1 << 30) },
    { month: '2025-11-01', day_mask: 0b11 },
  ])
  expect(dayMasks('2024-02-29', '2024-02-29')).toEqual([{ month: '2024-02-01', day_mask: 1 << 28 }])
})

describe('cost cap: timeseries in a zone other than the site rollup zone', () => {
  // Site 'cap' has no row in sites until its first write, then UTC: its rollups are kept in UTC.
  beforeAll(() => writeEventBatch(stack.database.db, [event('cap', '2025-11-14T12:00:00Z', { userId: 'u1' })]))
  const get = async (path: string) => {
    const response = await stack.get(path)
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const ny = encodeURIComponent('America/New_York')

  test(`${MAX_OTHER_ZONE_DAYS} days in another zone are answered`, async () => {
    const { status, body } = await get(`/stats/timeseries?site_id=cap&from=2025-11-01&to=2025-12-01&interval=day&tz=${ny}`)
    expect(status).toBe(200)
    expect((body.buckets as unknown[]).length).toBe(MAX_OTHER_ZONE_DAYS)
  })

  test.each(['day', 'week', 'month'])('one day more is refused with the limit and the way around it (%s)', async (interval) => {
    expect(await get(`/stats/timeseries?site_id=cap&from=2025-11-01&to=2025-12-02&interval=${interval}&tz=${ny}`)).toEqual({
      status: 400,
      body: {
        error:
          "a timeseries in a timezone other than the site's (UTC) may span at most 31 days; it is 32. Ask in UTC, or set the site's timezone (PUT /sites/:id).",
      },
    })
  })

  test('in the site zone, whether named or not, ranges up to 400 days stay allowed', async () => {
    for (const tz of ['', '&tz=UTC']) {
      const { status, body } = await get(`/stats/timeseries?site_id=cap&from=2024-10-16&to=2025-11-19&interval=day${tz}`)
      expect(status).toBe(200)
      expect((body.buckets as unknown[]).length).toBe(MAX_RANGE_DAYS)
    }
  })

  test('/stats over 400 days in another zone is still answered (one bucket: whole rollup days plus the edge hours)', async () => {
    const { status, body } = await get(`/stats?site_id=cap&from=2024-10-16&to=2025-11-19&tz=${ny}`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ total_views: 1, unique_users: 1, timezone: 'America/New_York' })
  })

  test('the original contract is unchanged', async () => {
    expect(await get('/stats?site_id=cap&date=2025-11-14')).toEqual({
      status: 200,
      body: { site_id: 'cap', date: '2025-11-14', total_views: 1, unique_users: 1, top_paths: [{ path: '/', views: 1 }] },
    })
  })
})
