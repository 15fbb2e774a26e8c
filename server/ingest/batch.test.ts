import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { countEvents, startStack, type Stack } from '../../tests/support'
import type { SiteLedger } from './ledger'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('batch', { ingestLimits: { maxBacklogEvents: 3, backlogRefreshMs: 0 } })
})
afterAll(() => stack.close())

const event = (site: string, i: number, extra: Record<string, unknown> = {}) => ({
  site_id: site,
  event_type: 'page_view',
  path: `/p${i}`,
  timestamp: '2025-11-14T10:00:00Z',
  ...extra,
})

type BatchResponse = {
  jobId: string
  accepted: number
  refused: number
  results: ({ index: number; status: 'accepted'; eventId: string } | { index: number; status: 'refused'; errors: string[] })[]
}

describe('POST /events', () => {
  test('valid items are accepted even when others are refused; each index gets a result', async () => {
    const events = [event('b1', 0), { ...event('b1', 1), timestamp: 'yesterday' }, event('b1', 2), 'nonsense', { ...event('b1', 4), colour: 'red' }]
    const response = await stack.post('/events', { events })
    expect(response.status).toBe(202)
    const body = (await response.json()) as BatchResponse
    expect(body).toMatchObject({ message: 'Events accepted for processing', accepted: 2, refused: 3 })
    expect(body.results.map((r) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'refused'],
      [2, 'accepted'],
      [3, 'refused'],
      [4, 'refused'],
    ])
    expect(body.results[1]).toEqual({ index: 1, status: 'refused', errors: ['timestamp must be a valid ISO 8601 date string'] })
    expect(body.results[3]).toEqual({ index: 3, status: 'refused', errors: ['event must be a JSON object'] })
    expect(body.results[4]).toEqual({ index: 4, status: 'refused', errors: ['colour is not a known field'] })
    await stack.jobs.wait([body.jobId])
    const rows = await stack.database.sql`select path from events where site_id = 'b1' order by path`
    expect(rows.map((r) => r.path)).toEqual(['/p0', '/p2'])
  })

  test('a batch with no valid event is a 400 that still explains each item', async () => {
    const response = await stack.post('/events', { events: [{}, event('b2', 0, { path: '' })] })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: 'Invalid payload',
      details: ['no event in the batch is valid'],
      results: [
        { index: 0, status: 'refused', errors: ['site_id is required', 'event_type is required', 'path is required', 'timestamp is required'] },
        { index: 1, status: 'refused', errors: ['path must not be empty'] },
      ],
    })
    expect(await countEvents(stack.database, 'b2')).toBe(0)
  })

  test.each([
    ['an empty array', { events: [] }, 'events must be an array of 1 to 1000 events'],
    ['more than 1,000 events', { events: Array.from({ length: 1_001 }, (_, i) => event('b3', i)) }, 'events must be an array of 1 to 1000 events'],
    ['events that is not an array', { events: 'many' }, 'events must be an array'],
    ['a body without events', { site_id: 'b3' }, 'events is required'],
  ])('%s is refused whole', async (_, body, detail) => {
    const response = await stack.post('/events', body)
    expect(response.status).toBe(400)
    const { error, details } = (await response.json()) as { error: string; details: string[] }
    expect(error).toBe('Invalid payload')
    expect(details).toContain(detail)
    expect(await countEvents(stack.database, 'b3')).toBe(0)
  })

  test('1,000 events in one request land in one job, exactly once, with duplicates in the batch stored once', async () => {
    const events = Array.from({ length: 1_000 }, (_, i) => event('b4', i, { event_id: `id-${i % 900}` }))
    const response = await stack.post('/events', { events })
    expect(response.status).toBe(202)
    const body = (await response.json()) as BatchResponse
    expect(body.accepted).toBe(1_000)
    await stack.jobs.wait([body.jobId])
    expect(await countEvents(stack.database, 'b4')).toBe(900)
  })
})

describe('size limits', () => {
  test('POST /event over 64 KiB gets 413', async () => {
    const response = await stack.post('/event', { ...event('big', 0), path: 'x'.repeat(70_000) })
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({ error: 'Payload too large', details: ['body must be at most 65536 bytes'] })
  })

  test('POST /events over 4 MiB gets 413', async () => {
    const response = await stack.post('/events', { events: [{ ...event('big', 0), path: 'x'.repeat(4_200_000) }] })
    expect(response.status).toBe(413)
    expect(await countEvents(stack.database, 'big')).toBe(0)
  })
})

describe('CORS', () => {
  test('ingestion answers preflight and allows any origin', async () => {
    for (const path of ['/event', '/events']) {
      const preflight = await fetch(stack.baseUrl + path, {
        method: 'OPTIONS',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    }
    const accepted = await stack.post('/event', event('cors', 0), { 'content-type': 'text/plain', origin: 'https://shop.example' })
    expect(accepted.headers.get('access-control-allow-origin')).toBe('*')
    const refused = await stack.post('/event', {}, { 'content-type': 'text/plain', origin: 'https://shop.example' })
    expect(refused.status).toBe(400)
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
  })

  test('nothing else allows other origins', async () => {
    const stats = await stack.get('/stats?site_id=cors', { origin: 'https://shop.example' })
    expect(stats.headers.get('access-control-allow-origin')).toBeNull()
    const health = await stack.get('/health', { origin: 'https://shop.example' })
    expect(health.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('ingestion ledger', () => {
  test('counts accepted, refused by reason, written and duplicates per site', async () => {
    const site = 'ledger-site'
    const first = (await (
      await stack.post('/events', { events: [event(site, 1, { event_id: 'a' }), event(site, 2, { event_id: 'a' }), event(site, 3)] })
    ).json()) as BatchResponse
    await stack.post('/event', { ...event(site, 4), timestamp: 'nope' })
    await stack.post('/event', { ...event(site, 5), mystery: 1 })
    await stack.post('/event', { ...event(site, 6), mystery2: 1 })
    await stack.jobs.wait([first.jobId])
    await stack.flush() // the API buffers its counts for about a second
    const response = await stack.get(`/ingest/ledger?site_id=${site}`)
    expect(await response.json()).toEqual({
      sites: [
        {
          site_id: site,
          accepted: 3,
          refused: 3,
          written: 2,
          duplicates: 1,
          refused_by_reason: [
            { reason: 'unknown field', count: 2 },
            { reason: 'timestamp must be a valid ISO 8601 date string', count: 1 },
          ],
        },
      ],
    })
  })
  test('refusals naming sites that never had an accepted event share one row; a known site keeps its own', async () => {
    const known = 'ledger-known'
    const first = (await (await stack.post('/event', event(known, 1))).json()) as { jobId: string }
    await stack.jobs.wait([first.jobId])
    await stack.flush()
    const ledger = async () => ((await (await stack.get('/ingest/ledger')).json()) as { sites: SiteLedger[] }).sites
    const unknownBefore = (await ledger()).find((row) => row.site_id === '')
    const junk = Array.from({ length: 50 }, (_, i) => ({ ...event(`junk-${i}`, i), timestamp: 'nope' }))
    expect((await stack.post('/events', { events: junk })).status).toBe(400)
    expect((await stack.post('/event', { ...event(known, 2), timestamp: 'nope' })).status).toBe(400)
    await stack.flush()

    const sites = await ledger()
    expect(sites.filter((row) => row.site_id.startsWith('junk-'))).toEqual([])
    const unknown = sites.find((row) => row.site_id === '')!
    const reason = 'timestamp must be a valid ISO 8601 date string'
    const countOf = (row: typeof unknown | undefined) => row?.refused_by_reason.find((entry) => entry.reason === reason)?.count ?? 0
    expect(unknown.refused - (unknownBefore?.refused ?? 0)).toBe(50)
    expect(countOf(unknown) - countOf(unknownBefore)).toBe(50)
    expect(sites.find((row) => row.site_id === known)).toEqual({
      site_id: known,
      accepted: 1,
      refused: 1,
      written: 1,
      duplicates: 0,
      refused_by_reason: [{ reason, count: 1 }],
    })
    const [rows] = await stack.database.sql<{ count: number }[]>`select count(*)::int as count from ingest_refusals where site_id like 'junk-%'`
    expect(rows!.count).toBe(0)
  })
  test('recent_hours adds the refusals of the last hours, by reason; without it the answer is unchanged', async () => {
    const site = 'ledger-recent'
    const first = (await (await stack.post('/event', event(site, 1))).json()) as { jobId: string }
    await stack.jobs.wait([first.jobId])
    await stack.post('/event', { ...event(site, 2), timestamp: 'nope' })
    await stack.post('/event', { ...event(site, 3), timestamp: 'nope' })
    await stack.post('/event', { ...event(site, 4), mystery: 1 })
    await stack.flush()
    // Refusals of an hour the window of 24 no longer reaches, and of one it does.
    await stack.database.sql`
      insert into ingest_refusal_hours (site_id, hour, reason, count)
      values (${site}, date_trunc('hour', now()) - interval '24 hours', 'bot', 5),
             (${site}, date_trunc('hour', now()) - interval '23 hours', 'bot', 1)`
    const allTime = {
      site_id: site,
      accepted: 1,
      refused: 3,
      written: 1,
      duplicates: 0,
      refused_by_reason: [
        { reason: 'timestamp must be a valid ISO 8601 date string', count: 2 },
        { reason: 'unknown field', count: 1 },
      ],
    }
    const plain = await stack.get(`/ingest/ledger?site_id=${site}`)
    expect(await plain.text()).toBe(JSON.stringify({ sites: [allTime] }))

    const [window] = await stack.database.sql<{ since: string }[]>`select to_json(date_trunc('hour', now()) - interval '23 hours') #>> '{}' as since`
    const recent = await stack.get(`/ingest/ledger?site_id=${site}&recent_hours=24`)
    expect(recent.status).toBe(200)
    expect(await recent.json()).toEqual({
      sites: [
        {
          ...allTime,
          recent: {
            hours: 24,
            since: new Date(window!.since).toISOString(),
            refused: 4,
            refused_by_reason: [
              { reason: 'timestamp must be a valid ISO 8601 date string', count: 2 },
              { reason: 'bot', count: 1 },
              { reason: 'unknown field', count: 1 },
            ],
          },
        },
      ],
    })
    const lastHour = (await (await stack.get(`/ingest/ledger?site_id=${site}&recent_hours=1`)).json()) as { sites: SiteLedger[] }
    expect(lastHour.sites[0]!.recent).toMatchObject({ hours: 1, refused: 3 })

    for (const bad of ['0', '169', '24.5', '1e1', ' 5', '-1', 'abc', '']) {
      const refused = await stack.get(`/ingest/ledger?site_id=${site}&recent_hours=${encodeURIComponent(bad)}`)
      expect(refused.status).toBe(400)
      expect(await refused.json()).toEqual({ error: 'recent_hours must be a whole number from 1 to 168' })
    }
  })
})

describe('backpressure and outages', () => {
  test('past the backlog limit the API answers 503 with Retry-After, and recovers once drained', async () => {
    await stack.worker.pause(true)
    const jobIds: string[] = []
    let refused: Response | undefined
    for (let i = 0; i < 10 && !refused; i++) {
      const response = await stack.post('/event', event('backlog', i))
      if (response.status === 202) jobIds.push(((await response.json()) as { jobId: string }).jobId)
      else refused = response
    }
    expect(refused?.status).toBe(503)
    expect(refused?.headers.get('retry-after')).toBe('10')
    expect(await refused?.json()).toEqual({ error: 'Event queue backlog is over its limit; retry later', retryAfterSeconds: 10 })
    expect(jobIds.length).toBeGreaterThanOrEqual(1)

    stack.worker.resume()
    await stack.jobs.wait(jobIds)
    const after = await stack.post('/event', event('backlog', 99))
    expect(after.status).toBe(202)
    await stack.jobs.wait([((await after.json()) as { jobId: string }).jobId])
    expect(await countEvents(stack.database, 'backlog')).toBe(jobIds.length + 1)
  })

  test('with the Redis connection down, POST /event answers 503 at once; it recovers on reconnect', async () => {
    const closed = new Promise((resolve) => stack.producer.once('end', resolve))
    stack.producer.disconnect()
    await closed
    const response = await stack.post('/event', event('outage', 0))
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(((await response.json()) as { error: string }).error).toContain('Redis is not connected')
    const settings = await fetch(`${stack.baseUrl}/sites/outage`, { method: 'PUT', body: JSON.stringify({ timezone: 'UTC' }), headers: stack.adminHeaders })
    expect(settings.status).toBe(503)
    expect(settings.headers.get('retry-after')).toBe('5')
    await stack.producer.connect()
    const after = await stack.post('/event', event('outage', 1))
    expect(after.status).toBe(202)
  })
})

describe('metrics', () => {
  test('/metrics counts accepted and refused events, batch sizes and enqueue latency, and shows the queue', async () => {
    const response = await stack.get('/metrics')
    expect(response.headers.get('content-type')).toContain('text/plain')
    const text = await response.text()
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(line))
          ?.split(' ')
          .pop(),
      )
    expect(value('analytics_events_accepted_total ')).toBeGreaterThan(1_000)
    expect(value('analytics_events_refused_total{reason="invalid"} ')).toBeGreaterThan(0)
    expect(value('analytics_ingest_batch_events_count ')).toBeGreaterThan(0)
    expect(value('analytics_enqueue_seconds_count ')).toBe(value('analytics_ingest_batch_events_count '))
    expect(text).toContain('analytics_queue_jobs{state="failed"} 0')
  })
})
