/**
 * format=csv on /stats/timeseries and /stats/breakdown: for every kind of question (each property,
 * goals, custom properties, filters, paging, zones) the CSV, read back by an independent RFC 4180
 * parser (csv-parse), is the JSON answer's rows, field for field.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parse } from 'csv-parse/sync'
import type { QueuedEvent } from '../lib/queue'
import { BREAKDOWN_PROPERTIES } from '../lib/visit-properties'
import { writeEventBatch } from '../worker/rollups/postgres'
import { startStack, type Stack } from './support'

let stack: Stack
const SITE = 'csv-site'

let sequence = 0
function event(timestamp: string, fields: Partial<QueuedEvent> = {}): QueuedEvent {
  sequence += 1
  return { eventId: `e${sequence}`, siteId: SITE, eventType: 'page_view', path: '/', userId: null, timestamp, receivedAt: timestamp, ...fields }
}

beforeAll(async () => {
  stack = await startStack('stats_csv')
  // Values a visitor's browser could send: separators, quotes, line breaks and formula starts.
  await writeEventBatch(stack.database.db, [
    event('2025-11-14T09:00:00Z', { userId: 'u1', path: '=HYPERLINK("http://evil.example","x")', referrer: 'https://news.example/a,b', source: 'news.example', channel: 'Referral' }),
    event('2025-11-14T09:05:00Z', { userId: 'u1', path: '/a,b', browser: '@browser', os: '-os', device: 'Desktop', country: 'DE' }),
    event('2025-11-14T09:06:00Z', { userId: 'u1', eventType: 'signup', path: '/signup', props: { plan: '+pro', note: 'two\r\nlines' } }),
    event('2025-11-14T10:00:00Z', { userId: 'u2', path: '/say "hi"', utmSource: '\tnewsletter', utmMedium: 'email', utmCampaign: 'c,1', source: '\tnewsletter', channel: 'Email' }),
    event('2025-11-14T10:01:00Z', { userId: 'u2', path: '/line\nbreak', props: { plan: 'free' } }),
    event('2025-11-15T12:00:00Z', { path: '/', props: { plan: '+pro' } }),
    event('2025-11-16T23:30:00Z', { userId: 'u3', path: '/late', country: 'US' }),
  ])
  for (const goal of [{ event_type: 'signup', name: '=signed up' }, { page: '/a,b' }]) {
    const response = await stack.post(`/sites/${SITE}/goals`, goal, { ...stack.adminHeaders, 'content-type': 'application/json' })
    expect(response.status).toBe(201)
  }
})
afterAll(() => stack.close())

const FORMULA_START = /^[=+\-@\t\r]/
/** What a JSON field must read back as from the CSV: numbers as written, text guarded against formulas. */
const asCell = (value: unknown) => (typeof value === 'number' ? String(value) : FORMULA_START.test(value as string) ? `'${value}` : (value as string))

async function both(path: string) {
  const json = (await (await stack.get(path)).json()) as Record<string, unknown>
  const csv = await stack.get(`${path}&format=csv`)
  return { json, csv, text: await csv.text() }
}

const VISIT_COLUMNS = ['value', 'visitors', 'visits', 'views', 'bounce_rate', 'visit_duration']
const COLUMNS: Record<string, string[]> = {
  page: ['value', 'visitors', 'views'],
  goal: ['value', 'visitors', 'events', 'conversion_rate'],
  props: ['value', 'visitors', 'events'],
  'props:plan': ['value', 'visitors', 'events'],
}

describe('GET /stats/breakdown?format=csv', () => {
  const range = `site_id=${SITE}&from=2025-11-14&to=2025-11-16`
  const questions = [
    ...[...BREAKDOWN_PROPERTIES, 'goal', 'props', 'props:plan'].map((property) => `${range}&property=${encodeURIComponent(property)}`),
    `${range}&property=page&limit=2&page=2`,
    `${range}&property=entry_page&filters=${encodeURIComponent('country==DE')}`,
    `${range}&property=goal&filters=${encodeURIComponent('page==/a,b')}`,
    `${range}&property=props:plan&filters=${encodeURIComponent('event_type==signup')}`,
    `${range}&property=source&tz=${encodeURIComponent('America/New_York')}`,
    `site_id=${SITE}&date=2025-11-14&property=page`,
  ]
  test.each(questions)('%s: the JSON rows, field for field, under a header of their names', async (query) => {
    const { json, csv, text } = await both(`/stats/breakdown?${query}`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const property = new URLSearchParams(query).get('property')!
    const columns = COLUMNS[property] ?? VISIT_COLUMNS
    const results = json.results as Record<string, unknown>[]
    expect(text.endsWith('\r\n')).toBe(true)
    expect(parse(text, { record_delimiter: '\r\n' })).toEqual([columns, ...results.map((row) => columns.map((column) => asCell(row[column])))])
    for (const row of results) expect(Object.keys(row)).toEqual(columns)
  })

  test('the questions have rows to compare, hostile values among them', async () => {
    const { json, text } = await both(`/stats/breakdown?${range}&property=page&limit=100`)
    expect((json.results as unknown[]).length).toBe(6)
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`)
    expect(text).toContain('"/line\nbreak"')
    expect(text).toContain('"/a,b"')
  })

  test('the download is named by the site, the property and the range (and the page)', async () => {
    const { csv } = await both(`/stats/breakdown?${range}&property=props:plan`)
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="csv-site_props_plan_2025-11-14_2025-11-16.csv"')
    const paged = await both(`/stats/breakdown?${range}&property=page&limit=2&page=3`)
    expect(paged.csv.headers.get('content-disposition')).toBe('attachment; filename="csv-site_page_2025-11-14_2025-11-16_page3.csv"')
  })

  test('a range without rows is the header alone', async () => {
    const { text } = await both(`/stats/breakdown?site_id=${SITE}&date=2024-01-01&property=source`)
    expect(text).toBe(`${VISIT_COLUMNS.join(',')}\r\n`)
  })
})

describe('GET /stats/timeseries?format=csv', () => {
  test.each([
    `site_id=${SITE}&from=2025-11-14&to=2025-11-16`,
    `site_id=${SITE}&from=2025-11-14&to=2025-11-15&interval=hour`,
    `site_id=${SITE}&from=2025-11-01&to=2025-11-30&interval=week&tz=${encodeURIComponent('Asia/Tokyo')}`,
    `site_id=${SITE}&from=2025-11-14&to=2025-11-16&filters=${encodeURIComponent('props:plan==+pro')}`,
  ])('%s: one row per bucket, the JSON numbers', async (query) => {
    const { json, csv, text } = await both(`/stats/timeseries?${query}`)
    expect(csv.status).toBe(200)
    const columns = ['start', 'views', 'unique_users', 'visitors', 'visits']
    const buckets = json.buckets as Record<string, unknown>[]
    expect(buckets.length).toBeGreaterThan(0)
    expect(parse(text, { record_delimiter: '\r\n' })).toEqual([columns, ...buckets.map((bucket) => columns.map((column) => asCell(bucket[column])))])
    expect(buckets.some((bucket) => (bucket.views as number) > 0)).toBe(true)
  })

  test('the download is named by the site, the interval and the range', async () => {
    const { csv } = await both(`/stats/timeseries?site_id=${SITE}&from=2025-11-14&to=2025-11-16`)
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="csv-site_timeseries_day_2025-11-14_2025-11-16.csv"')
  })
})

describe('format is validated; refusals stay JSON', () => {
  test.each(['xml', 'CSV', '', 'csv ', 'ndjson'])('format=%p is a 400 naming format', async (format) => {
    for (const path of [`/stats/timeseries?site_id=${SITE}&from=2025-11-14&to=2025-11-14`, `/stats/breakdown?site_id=${SITE}&property=page`]) {
      const response = await stack.get(`${path}&format=${encodeURIComponent(format)}`)
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: 'format must be json or csv' })
    }
  })

  test('format=json is the default answer', async () => {
    const path = `/stats/breakdown?site_id=${SITE}&date=2025-11-14&property=page`
    expect(await (await stack.get(`${path}&format=json`)).json()).toEqual(await (await stack.get(path)).json())
  })

  test.each([
    [`/stats/breakdown?site_id=${SITE}&from=2025-11-20&to=2025-11-10&property=page&format=csv`, 'from must not be after to'],
    [`/stats/breakdown?site_id=${SITE}&date=2025-11-14&property=nope&format=csv`, 'property must be one of'],
    [`/stats/timeseries?site_id=${SITE}&from=2025-11-14&to=2025-02-30&format=csv`, 'to must be a calendar date in YYYY-MM-DD format'],
    [`/stats/timeseries?format=csv`, 'site_id query parameter is required'],
  ])('a refused CSV question is the JSON error: %s', async (path, error) => {
    const response = await stack.get(path)
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(((await response.json()) as { error: string }).error).toStartWith(error)
  })
})
