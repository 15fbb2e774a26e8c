/**
 * GET /sites/:id/export: the exported rows are the stored events exactly (read back from the
 * table by a query of this test's own), in both formats; ranges are days of the site's zone; a
 * client that goes away mid-download leaves no cursor open and no connection taken.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parse } from 'csv-parse/sync'
import { connect } from 'node:net'
import type { QueuedEvent } from '../lib/queue'
import { exportEvents, type ExportRow } from '../server/export/queries'
import { cursorBody } from '../server/export/stream'
import { writeEventBatch } from '../worker/rollups/postgres'
import { pollUntil, withDeadline } from './kit/processes'
import { startStack, type Stack } from './support'

let stack: Stack
const SITE = 'export-site'
const BIG = 'export-big'
const BIG_EVENTS = 20_000

const COLUMNS = [
  'site_id',
  'event_id',
  'timestamp',
  'event_type',
  'path',
  'user_id',
  'referrer',
  'source',
  'channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_term',
  'browser',
  'os',
  'device',
  'country',
  'props',
  'received_at',
  'created_at',
]

let sequence = 0
function event(siteId: string, timestamp: string, fields: Partial<QueuedEvent> = {}): QueuedEvent {
  sequence += 1
  return { eventId: `e${sequence}`, siteId, eventType: 'page_view', path: '/', userId: null, timestamp, receivedAt: '2025-11-17T08:00:00.123Z', ...fields }
}

beforeAll(async () => {
  stack = await startStack('export')
  await writeEventBatch(stack.database.db, [
    event(SITE, '2025-11-14T09:00:00Z', {
      userId: 'u1',
      path: '=HYPERLINK("http://evil.example","x")',
      referrer: 'https://news.example/a,b',
      source: 'news.example',
      channel: 'Referral',
      utmSource: '-src',
      utmMedium: 'email',
      utmCampaign: 'c,1',
      utmContent: 'say "hi"',
      utmTerm: '@term',
      browser: 'Chrome',
      os: 'Windows',
      device: 'Desktop',
      country: 'DE',
      props: { plan: '+pro', note: 'two\r\nlines', 'a.b-c_d': 'ünï 页' },
    }),
    // Equal times: ordered by event id in byte order ('Z' before 'a').
    event(SITE, '2025-11-14T09:00:00Z', { eventId: 'a-same-time', path: '/tie' }),
    event(SITE, '2025-11-14T09:00:00Z', { eventId: 'Z-same-time', path: '/tie' }),
    event(SITE, '2025-11-13T15:00:00.000001Z', { userId: 'u2', path: '/line\nbreak', eventType: 'signup' }),
    event(SITE, '2025-11-13T14:59:59.999Z', { path: '/\ttab' }),
    event(SITE, '2025-11-14T14:59:59.999999Z', { path: '/last-of-the-tokyo-day' }),
    event(SITE, '2025-11-14T15:00:00Z', { path: '/next-tokyo-day' }),
    event('export-other', '2025-11-14T09:00:00Z', { path: '/other-site' }),
  ])
  // Long paths, so the download is far bigger than what sockets buffer and the server must wait for the client.
  const big = Array.from({ length: BIG_EVENTS }, (_, i) =>
    event(BIG, new Date(Date.UTC(2025, 10, 1) + i * 1_000).toISOString(), { path: `/${i}/${'p'.repeat(1_500)}`, userId: `u${i % 50}` }),
  )
  for (let i = 0; i < big.length; i += 5_000) await writeEventBatch(stack.database.db, big.slice(i, i + 5_000))
}, 60_000)
afterAll(() => stack.close())

const admin = () => stack.adminHeaders

/** The stored events of a site, as the export must write them, read straight from the table. */
async function stored(siteId: string, where = stack.database.sql`true`) {
  const iso = (column: string) =>
    stack.database.sql.unsafe(`regexp_replace(to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '(\\.[0-9]{3})000Z$', '\\1Z')`)
  return stack.database.sql<Record<string, unknown>[]>`
    select site_id, event_id, ${iso('timestamp')} as timestamp, event_type, path, user_id, referrer, source, channel,
           utm_source, utm_medium, utm_campaign, utm_content, utm_term, browser, os, device, country, props,
           ${iso('received_at')} as received_at, ${iso('created_at')} as created_at
      from events where site_id = ${siteId} and ${where} order by timestamp, event_id collate "C"`
}

async function download(path: string) {
  const response = await stack.get(path, admin())
  return { response, text: await response.text() }
}

const FORMULA_START = /^[=+\-@\t\r]/
/** A stored text as a CSV cell must read back: guarded against formulas, null empty. */
const asCell = (value: unknown) => (value === null ? '' : FORMULA_START.test(value as string) ? `'${value}` : (value as string))

describe('the export is the stored events, exactly', () => {
  test('NDJSON: one object per event in time order, every column as stored', async () => {
    const { response, text } = await download(`/sites/${SITE}/export?format=ndjson`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="export-site_events_all.ndjson"')
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    for (const line of lines) expect(Object.keys(line)).toEqual(COLUMNS)
    const expected = await stored(SITE)
    expect(expected.length).toBe(7)
    expect(lines).toEqual(expected.map((row) => ({ ...row })))
    // The order and the instants, spelled out once.
    expect(lines.map((line) => line.timestamp)).toEqual([
      '2025-11-13T14:59:59.999Z',
      '2025-11-13T15:00:00.000001Z',
      '2025-11-14T09:00:00.000Z',
      '2025-11-14T09:00:00.000Z',
      '2025-11-14T09:00:00.000Z',
      '2025-11-14T14:59:59.999999Z',
      '2025-11-14T15:00:00.000Z',
    ])
    expect(lines.slice(2, 5).map((line) => line.event_id)).toEqual(['Z-same-time', 'a-same-time', 'e1'])
    expect(lines[4]!.props).toEqual({ plan: '+pro', note: 'two\r\nlines', 'a.b-c_d': 'ünï 页' })
  })

  test('CSV: a header of the columns, then each event, text cells guarded against formulas', async () => {
    const { response, text } = await download(`/sites/${SITE}/export?format=csv`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="export-site_events_all.csv"')
    const [header, ...rows] = parse(text, { record_delimiter: '\r\n' }) as string[][]
    expect(header).toEqual(COLUMNS)
    const expected = await stored(SITE)
    const props = COLUMNS.indexOf('props')
    // Props are JSON: compared as the objects they write.
    const readBack = (row: string[]) => row.map((cell, i) => (i === props && cell !== '' ? JSON.parse(cell) : cell))
    expect(rows.map(readBack)).toEqual(expected.map((row) => COLUMNS.map((column) => (column === 'props' ? (row.props ?? '') : asCell(row[column])))))
    expect(rows[4]![COLUMNS.indexOf('path')]).toBe(`'=HYPERLINK("http://evil.example","x")`)
    expect(JSON.parse(rows[4]![COLUMNS.indexOf('props')]!)).toEqual({ plan: '+pro', note: 'two\r\nlines', 'a.b-c_d': 'ünï 页' })
  })

  test('CSV is the default format', async () => {
    const [csv, plain] = await Promise.all([download(`/sites/${SITE}/export?format=csv`), download(`/sites/${SITE}/export`)])
    expect(plain.response.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    // created_at and the rest are stored values: two downloads are the same bytes.
    expect(plain.text).toBe(csv.text)
  })

  test("from and to are days of the site's zone, both ends included", async () => {
    await stack.database.sql`update sites set timezone = 'Asia/Tokyo', rollup_timezone = 'Asia/Tokyo' where site_id = ${SITE}`
    try {
      const { response, text } = await download(`/sites/${SITE}/export?format=ndjson&from=2025-11-14&to=2025-11-14`)
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="export-site_events_2025-11-14_2025-11-14.ndjson"')
      const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      // 2025-11-14 in Tokyo is [2025-11-13T15:00Z, 2025-11-14T15:00Z).
      const expected = await stored(SITE, stack.database.sql`timestamp >= '2025-11-13T15:00:00Z' and timestamp < '2025-11-14T15:00:00Z'`)
      expect(expected.length).toBe(5)
      expect(lines).toEqual(expected.map((row) => ({ ...row })))
    } finally {
      await stack.database.sql`update sites set timezone = 'UTC', rollup_timezone = 'UTC' where site_id = ${SITE}`
    }
  })

  test('a big export, in both formats, has every event once, in order', async () => {
    const expected = (await stored(BIG)).map((row) => row.event_id as string)
    expect(expected.length).toBe(BIG_EVENTS)
    const ndjson = (await download(`/sites/${BIG}/export?format=ndjson`)).text
    expect(ndjson.slice(0, -1).split('\n').map((line) => (JSON.parse(line) as { event_id: string }).event_id)).toEqual(expected)
    const csv = parse((await download(`/sites/${BIG}/export?format=csv`)).text, { record_delimiter: '\r\n' }) as string[][]
    expect(csv.slice(1).map((row) => row[1])).toEqual(expected)
  })

  test('a site without events is an empty download (CSV: the header alone)', async () => {
    expect((await download('/sites/never-seen/export')).text).toBe(`${COLUMNS.join(',')}\r\n`)
    const ndjson = await download('/sites/never-seen/export?format=ndjson')
    expect(ndjson.response.status).toBe(200)
    expect(ndjson.text).toBe('')
  })
})

describe('refused parameters: 400 naming the problem', () => {
  test.each([
    ['from=2025-11-14', 'from and to must be given together'],
    ['to=2025-11-14', 'from and to must be given together'],
    ['from=2025-11-15&to=2025-11-14', 'from must not be after to'],
    ['from=2025-02-30&to=2025-03-01', 'from must be a calendar date in YYYY-MM-DD format'],
    ['from=2025-11-01&to=tomorrow', 'to must be a calendar date in YYYY-MM-DD format'],
    ['format=xml', 'format must be csv or ndjson'],
    ['format=', 'format must be csv or ndjson'],
    ['format=json', 'format must be csv or ndjson'],
  ])('%s', async (query, error) => {
    const response = await stack.get(`/sites/${SITE}/export?${query}`, admin())
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error })
  })

  test('an over-long site id', async () => {
    const response = await stack.get(`/sites/${'x'.repeat(129)}/export`, admin())
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: 'Invalid payload',
      details: ['id must be at most 128 characters'],
    })
  })

  test('admin only: not on loopback, not for a reader', async () => {
    const response = await stack.get(`/sites/${SITE}/export`)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ error: 'Authentication required' })
  })
})

describe('a client that goes away mid-download', () => {
  /** Backends of this database still inside an export's transaction. */
  const openExports = async () => {
    const [row] = await stack.database.sql<{ count: number }[]>`
      select count(*)::int as count from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'
         and (query like 'select row_to_json(x)::text from "events" e %' or query like 'select e.site_id, e.event_id, %')`
    return row!.count
  }

  /** A client on a raw socket that asks for an export; it reads what arrives until told to stop reading. */
  function rawClient(path: string) {
    const socket = connect(Number(new URL(stack.baseUrl).port), '127.0.0.1')
    let received = 0
    socket.on('data', (chunk: Buffer) => (received += chunk.length))
    socket.on('error', () => {})
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${stack.adminHeaders.authorization}\r\n\r\n`)
    return { socket, received: () => received }
  }

  test('a stalled client holds its export open (the server waits for it); once it disconnects, the cursor closes', async () => {
    const pool = 8 // startStack's database pool
    // More gone clients than the pool has connections: one left behind each time would exhaust it.
    for (let i = 0; i < pool + 4; i++) {
      const client = rawClient(`/sites/${BIG}/export?format=${i % 2 ? 'csv' : 'ndjson'}`)
      await pollUntil('the first bytes', () => client.received() > 100_000, 10_000)
      client.socket.pause()
      // About 30 MB in all: more than sockets buffer, so the export waits for the client, inside its transaction.
      await pollUntil('the export to wait for the client', async () => (await openExports()) === 1, 10_000)
      client.socket.destroy()
      // Well before Postgres's idle-in-transaction backstop (60 s) would end it.
      await pollUntil('the export transaction to end', async () => (await openExports()) === 0, 10_000)
    }
    const answers = await withDeadline(Promise.all(Array.from({ length: pool * 2 }, () => stack.database.sql`select 1 as one`)), 10_000, 'the pool')
    expect(answers.length).toBe(pool * 2)
    const whole = await withDeadline(download(`/sites/${BIG}/export?format=ndjson`), 60_000, 'a whole export')
    expect(whole.text.split('\n').length - 1).toBe(BIG_EVENTS)
    expect((await stack.get('/stats?site_id=export-big&date=2025-11-01')).status).toBe(200)
  })

  test('HEAD answers the headers and leaves no cursor open', async () => {
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${stack.baseUrl}/sites/${BIG}/export`, { method: 'HEAD', headers: admin() })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8')
      expect(await response.text()).toBe('')
    }
    await pollUntil('every export transaction to end', async () => (await openExports()) === 0, 10_000)
  })

  test('a client that stays connected but takes nothing is cut off after the stall limit, which closes the cursor', async () => {
    const logged: unknown[] = []
    const body = await cursorBody<ExportRow>({
      head: '',
      encode: (rows) => rows.map((row) => `${row[0]}\n`).join(''),
      run: (onRows) => exportEvents(stack.database.db, BIG, null, 'ndjson', onRows),
      signal: new AbortController().signal,
      stallMs: 300,
      onLateError: (error) => logged.push(error),
    })
    const reader = body.getReader()
    expect((await reader.read()).done).toBe(false)
    // Nothing read after the first batch: the export waits, then gives up.
    expect(await openExports()).toBe(1)
    await pollUntil('the stalled export to end', async () => (await openExports()) === 0, 10_000)
    expect(String(logged[0])).toBe('Error: the client took nothing for 0.3 s')
    // The download is cut off, not ended as if whole.
    let error: unknown
    try {
      while (!(await reader.read()).done);
    } catch (caught) {
      error = caught
    }
    expect(error).toBe(logged[0])
  })
})
