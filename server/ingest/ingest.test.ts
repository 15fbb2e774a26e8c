import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { scanKeys } from '../../tests/kit/fixtures'
import { PrivateRedisCluster } from '../../tests/faults/harness'
import { countEvents, isoUtc, startStack, testEnv, type Stack } from '../../tests/support'

// The same cases on the test environment's Redis and on a Redis Cluster of this file's own.
const cluster = new PrivateRedisCluster()
const kinds = [
  { kind: 'one Redis', cluster: false, redis: async () => testEnv.redis },
  {
    kind: 'a Redis Cluster of 3 masters',
    cluster: true,
    redis: async () => {
      await cluster.start()
      return cluster.target
    },
  },
]
afterAll(() => cluster.destroy())

describe.each(kinds)('ingestion, on $kind', (kind) => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack('ingest', { redis: await kind.redis() })
  }, 60_000)
  afterAll(() => stack.close())

  const valid = { site_id: 'ingest-site', event_type: 'page_view', path: '/home', user_id: 'u1', timestamp: '2025-11-14T10:30:00Z' }

  async function expectInvalid(body: unknown, details: string[], headers?: Record<string, string>) {
    const response = await stack.post('/event', body, headers)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: 'Invalid payload', details })
  }

  describe('POST /event refuses bad input with one sentence per problem', () => {
    test('each missing required field is named', async () => {
      await expectInvalid({}, ['site_id is required', 'event_type is required', 'path is required', 'timestamp is required'])
    })

    test('empty strings', async () => {
      await expectInvalid({ ...valid, site_id: '', path: '' }, ['site_id must not be empty', 'path must not be empty'])
    })

    test('wrong types', async () => {
      await expectInvalid({ ...valid, event_type: 5, user_id: 7, timestamp: true }, [
        'event_type must be a string',
        'user_id must be a string',
        'timestamp must be a string',
      ])
    })

    test.each([
      'not a date',
      '2025-02-30T10:00:00Z',
      '2025-11-14',
      '2025-11-14T25:00:00Z',
      '2025-11-14T10:30:00',
      '1731580200',
      'Fri Nov 14 2025 10:30:00 GMT+0000',
    ])('timestamp %p is not a valid ISO 8601 date-time', async (timestamp) => {
      await expectInvalid({ ...valid, timestamp }, ['timestamp must be a valid ISO 8601 date string'])
    })

    test('a body that is not JSON', async () => {
      await expectInvalid('{"site_id": ', ['body must be valid JSON'])
      await expectInvalid('', ['body must be valid JSON'])
    })

    test.each([['[]'], ['"text"'], ['42'], ['null']])('a body that is not an object: %s', async (raw) => {
      await expectInvalid(raw, ['body must be a JSON object'])
    })

    test('unknown fields are refused by name', async () => {
      await expectInvalid({ ...valid, userId: 'u1' }, ['userId is not a known field'])
    })

    test('over-long values are refused with the limit', async () => {
      await expectInvalid({ ...valid, path: `/${'a'.repeat(2048)}` }, ['path must be at most 2048 characters'])
    })

    test('several problems are all reported at once', async () => {
      const response = await stack.post('/event', { site_id: '', event_type: 1, path: '/x', timestamp: 'x' })
      const body = (await response.json()) as { details: string[] }
      expect(body.details.toSorted()).toEqual(['event_type must be a string', 'site_id must not be empty', 'timestamp must be a valid ISO 8601 date string'])
    })

    test('nothing invalid was written', async () => {
      // Every refused request above used site ingest-site or none; the valid ones below use others.
      expect(await countEvents(stack.database, 'ingest-site')).toBe(0)
      expect(await countEvents(stack.database, '')).toBe(0)
    })
  })

  describe('POST /event accepts good input', () => {
    test('202 with jobId and eventId, and the row lands in Postgres', async () => {
      const response = await stack.post('/event', { ...valid, site_id: 'accept-site' })
      expect(response.status).toBe(202)
      const body = (await response.json()) as { message: string; jobId: string; eventId: string }
      expect(Object.keys(body)).toEqual(['message', 'jobId', 'eventId'])
      await stack.jobs.wait([body.jobId])
      const rows = await stack.database
        .sql`select event_id, event_type, path, user_id, ${isoUtc(stack.database.sql)} as timestamp from events where site_id = 'accept-site'`
      expect([...rows]).toEqual([{ event_id: body.eventId, event_type: 'page_view', path: '/home', user_id: 'u1', timestamp: '2025-11-14T10:30:00.000Z' }])
    })

    test('a text/plain JSON body is accepted (beacons send no preflight)', async () => {
      const response = await stack.post('/event', JSON.stringify({ ...valid, site_id: 'beacon-site' }), { 'content-type': 'text/plain;charset=UTF-8' })
      expect(response.status).toBe(202)
      await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
      expect(await countEvents(stack.database, 'beacon-site')).toBe(1)
    })

    test('timestamps with offsets and fractions are stored as the same instant', async () => {
      const response = await stack.post('/event', { ...valid, site_id: 'offset-site', timestamp: '2025-11-14T16:00:00.250+05:30' })
      expect(response.status).toBe(202)
      await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
      const [row] = await stack.database.sql`select ${isoUtc(stack.database.sql)} as timestamp from events where site_id = 'offset-site'`
      expect(row!.timestamp).toBe('2025-11-14T10:30:00.250Z')
    })

    test('null or empty user_id is stored as anonymous', async () => {
      const ids: string[] = []
      for (const user_id of [null, '']) {
        const response = await stack.post('/event', { ...valid, site_id: 'anon-site', user_id })
        expect(response.status).toBe(202)
        ids.push(((await response.json()) as { jobId: string }).jobId)
      }
      await stack.jobs.wait(ids)
      const rows = await stack.database.sql`select user_id from events where site_id = 'anon-site'`
      expect([...rows]).toEqual([{ user_id: null }, { user_id: null }])
    })

    test('the same event_id for the same site is stored once', async () => {
      const event = { ...valid, site_id: 'idem-site', event_id: 'evt-42' }
      const first = await stack.post('/event', event)
      const second = await stack.post('/event', event)
      const other = await stack.post('/event', { ...event, site_id: 'idem-site-2' })
      const bodies = (await Promise.all([first.json(), second.json(), other.json()])) as { jobId: string; eventId: string }[]
      expect(bodies.map((body) => body.eventId)).toEqual(['evt-42', 'evt-42', 'evt-42'])
      await stack.jobs.wait(bodies.map((body) => body.jobId))
      expect(await countEvents(stack.database, 'idem-site')).toBe(1)
      expect(await countEvents(stack.database, 'idem-site-2')).toBe(1)
    })
  })

  describe('routes and admin', () => {
    test('unknown routes answer 404 JSON', async () => {
      const response = await stack.get('/nope')
      expect(response.status).toBe(404)
      expect(await response.json()).toEqual({ error: 'No route for /nope' })
    })

    test('Bull Board refuses requests without credentials and serves with them', async () => {
      expect((await stack.get('/admin/queues')).status).toBe(401)
      // The board is mounted: validation failures must still be the contract's 400, not a 500.
      expect((await stack.post('/event', {})).status).toBe(400)
      const wrong = `Basic ${Buffer.from('admin:wrong').toString('base64')}`
      expect((await stack.get('/admin/queues', { authorization: wrong })).status).toBe(401)
      const right = `Basic ${Buffer.from(`${stack.admin.user}:${stack.admin.password}`).toString('base64')}`
      const page = await stack.get('/admin/queues', { authorization: right })
      expect(page.status).toBe(200)
      const queues = await stack.get('/admin/queues/api/queues', { authorization: right })
      expect(queues.status).toBe(200)
      const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((queue) => queue.name)
      expect(names).toContain(stack.location.name)
    })
  })

  describe('text Postgres cannot store is refused before it reaches the queue', () => {
    test.each([
      ['a NUL character', '/a\u0000b'],
      ['an unpaired surrogate', '/a\ud800b'],
    ])('%s in path', async (_, path) => {
      await expectInvalid({ ...valid, path }, ['path must be at most 2048 bytes in UTF-8, without NUL characters or unpaired surrogates'])
    })

    test('emoji, quotes and SQL fragments are stored verbatim', async () => {
      const path = `/☃/😀/'; drop table events; --/"quoted"\\`
      const response = await stack.post('/event', { ...valid, site_id: 'verbatim-site', path })
      expect(response.status).toBe(202)
      await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
      const rows = await stack.database.sql`select path from events where site_id = 'verbatim-site'`
      expect([...rows]).toEqual([{ path }])
    })
  })

  test("every response carries a request id: the caller's when sane, else a new one", async () => {
    const given = await stack.get('/health', { 'x-request-id': 'edge-7f3a' })
    expect(given.headers.get('x-request-id')).toBe('edge-7f3a')
    const made = await stack.post('/event', {}, { 'content-type': 'application/json', 'x-request-id': 'bad id with spaces' })
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  describe('timestamp window', () => {
    const hours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')
    test('more than a day ahead, or more than ten years back, is refused with the reason', async () => {
      await expectInvalid({ ...valid, timestamp: hours(25) }, ['timestamp must not be more than 24 hours in the future'])
      await expectInvalid({ ...valid, timestamp: '2000-01-01T00:00:00Z' }, ['timestamp must not be more than 10 years in the past'])
      const batch = await stack.post('/events', {
        events: [
          { ...valid, timestamp: hours(48) },
          { ...valid, site_id: 'window-ok', timestamp: hours(23) },
        ],
      })
      const body = (await batch.json()) as { accepted: number; results: unknown[] }
      expect(body.accepted).toBe(1)
      expect(body.results[0]).toEqual({ index: 0, status: 'refused', errors: ['timestamp must not be more than 24 hours in the future'] })
    })
  })

  describe('derive_user_id: visitors counted without cookies', () => {
    const browser = (userAgent: string) => ({ 'content-type': 'text/plain', 'user-agent': AGENTS[userAgent]! })
    // Real browsers' agents: anything the bot filter does not recognise as a browser is dropped.
    const AGENTS: Record<string, string> = {
      'Firefox/140': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
      'Chrome/156': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
      'Safari/26': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15',
    }
    const anonymous = { ...valid, user_id: undefined, derive_user_id: true }

    async function postAll(requests: [unknown, Record<string, string>][], path = '/event'): Promise<void> {
      const ids: string[] = []
      for (const [body, headers] of requests) {
        const response = await stack.post(path, body, headers)
        expect(response.status).toBe(202)
        ids.push(((await response.json()) as { jobId: string }).jobId)
      }
      await stack.jobs.wait(ids)
    }
    const usersOf = async (site: string) =>
      (await stack.database.sql<{ path: string; user_id: string | null }[]>`select path, user_id from events where site_id = ${site} order by path`).map(
        (row) => [row.path, row.user_id],
      )

    test('one browser is one visitor on a site; another browser, or another site, is another', async () => {
      await postAll([
        [{ ...anonymous, site_id: 'visitor-site', path: '/a' }, browser('Firefox/140')],
        [{ ...anonymous, site_id: 'visitor-site', path: '/b' }, browser('Firefox/140')],
        [{ ...anonymous, site_id: 'visitor-site', path: '/c' }, browser('Chrome/156')],
        [{ ...anonymous, site_id: 'visitor-site-2', path: '/a' }, browser('Firefox/140')],
      ])
      const rows = await usersOf('visitor-site')
      const [a, b, c] = rows.map(([, user]) => user)
      expect(a).toMatch(/^v-[0-9a-f]{24}$/)
      expect(b).toBe(a!)
      expect(c).toMatch(/^v-[0-9a-f]{24}$/)
      expect(c).not.toBe(a!)
      const other = (await usersOf('visitor-site-2'))[0]?.[1]
      expect(other).toMatch(/^v-[0-9a-f]{24}$/)
      expect(other).not.toBe(a!)

      const stats = (await (await stack.get('/stats?site_id=visitor-site&date=2025-11-14')).json()) as { total_views: number; unique_users: number }
      expect(stats).toMatchObject({ total_views: 3, unique_users: 2 })
    })

    test('a user_id in the body wins; without derive_user_id the event stays anonymous', async () => {
      await postAll([
        [{ ...anonymous, site_id: 'visitor-own', path: '/a', user_id: 'u-7' }, browser('Firefox/140')],
        [{ ...valid, site_id: 'visitor-own', path: '/b', user_id: undefined }, browser('Firefox/140')],
        [{ ...anonymous, site_id: 'visitor-own', path: '/c', derive_user_id: false }, browser('Firefox/140')],
      ])
      expect(await usersOf('visitor-own')).toEqual([
        ['/a', 'u-7'],
        ['/b', null],
        ['/c', null],
      ])
    })

    test('batch items get the same visitor id as single events of that browser', async () => {
      await postAll([[{ ...anonymous, site_id: 'visitor-batch', path: '/single' }, browser('Safari/26')]])
      await postAll(
        [
          [
            {
              events: [
                { ...anonymous, site_id: 'visitor-batch', path: '/x' },
                { ...valid, site_id: 'visitor-batch', path: '/y', user_id: undefined },
              ],
            },
            browser('Safari/26'),
          ],
        ],
        '/events',
      )
      const rows = await usersOf('visitor-batch')
      expect(rows.map(([path]) => path)).toEqual(['/single', '/x', '/y'])
      expect(rows[0]![1]).toMatch(/^v-[0-9a-f]{24}$/)
      expect(rows[1]![1]).toBe(rows[0]![1])
      expect(rows[2]![1]).toBeNull()
    })

    test('derive_user_id must be a boolean', async () => {
      await expectInvalid({ ...valid, derive_user_id: 'yes' }, ['derive_user_id must be true or false'])
      expect(await countEvents(stack.database, valid.site_id)).toBe(0)
    })
  })

  if (kind.cluster) {
    test("every key written to the cluster carries the queue's hash tag, so all share one slot", async () => {
      const keys = (await Array.fromAsync(scanKeys(stack.producer, '*'))).flat()
      // The queues' keys and the visitor salts of the cases above are there.
      const tag = `{${stack.location.prefix}}:`
      expect(keys).toContain(`${tag}${stack.location.name}:meta`)
      expect(keys.some((key) => key.startsWith(`${tag}${stack.location.name}:visitor-salt:`))).toBe(true)
      expect(keys.filter((key) => !key.startsWith(tag))).toEqual([])
      const slots = new Set(await Promise.all(keys.map((key) => stack.producer.cluster('KEYSLOT', key))))
      expect(slots.size).toBe(1)
    })
  }
})
