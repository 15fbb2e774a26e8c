import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia, InvalidFileType, t } from 'elysia'
import { sql } from 'drizzle-orm'
import { createDb } from '../drizzle/client'
import { startStack, type Stack } from '../tests/support'
import { errorHandler, STATEMENT_TIMEOUT_MS } from './errors'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('errors')
})
afterAll(() => stack.close())

const SITE = 'errors-site'
const valid = () => ({
  site_id: SITE,
  event_type: 'page_view',
  path: '/home',
  user_id: 'u1',
  timestamp: new Date().toISOString(),
  event_id: Bun.randomUUIDv7(),
})

/**
 * Objects that JavaScript cannot turn into a string: `${value}` looks up toString and valueOf,
 * finds no callable one, and throws a TypeError.
 */
const unprintable: [string, unknown][] = [
  ['{"toString":1}', { toString: 1 }],
  ['[{"toString":1}]', [{ toString: 1 }]],
  ['{"toString":{},"valueOf":null}', { toString: {}, valueOf: null }],
  ['{"toJSON":1,"toString":"x"}', { toJSON: 1, toString: 'x' }],
]
const fields = ['site_id', 'event_type', 'path', 'timestamp', 'event_id'] as const

async function answer(response: Response) {
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() }
}

const refused = (details: string[]) => ({
  status: 400,
  contentType: expect.stringContaining('application/json'),
  body: JSON.stringify({ error: 'Invalid payload', details }),
})

async function storedEvents(): Promise<number> {
  await stack.flush()
  const [row] = await stack.database.sql<{ n: number }[]>`select count(*)::int as n from events`
  return row!.n
}

describe('values that cannot be turned into a string are refused as the wrong type', () => {
  for (const [label, value] of unprintable) {
    test.each(fields)(`POST /event with ${label} in %s`, async (field) => {
      expect(await answer(await stack.post('/event', { ...valid(), [field]: value }))).toEqual(refused([`${field} must be a string`]))
    })

    test.each(fields)(`POST /events with ${label} in an item's %s`, async (field) => {
      const response = await stack.post('/events', { events: [{ ...valid(), [field]: value }] })
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({
        error: 'Invalid payload',
        details: ['no event in the batch is valid'],
        results: [{ index: 0, status: 'refused', errors: [`${field} must be a string`] }],
      })
    })

    test(`PUT /sites/:id with ${label} in timezone`, async () => {
      const response = await fetch(`${stack.baseUrl}/sites/${SITE}`, {
        method: 'PUT',
        headers: { ...stack.adminHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ timezone: value }),
      })
      expect(await answer(response)).toEqual(refused(['timezone must be a string']))
    })
  }

  // The first failing field has no message of its own, so Elysia describes every failure itself.
  test('POST /event with such values in user_id and timestamp', async () => {
    const response = await stack.post('/event', { ...valid(), user_id: { toString: 1 }, timestamp: { toString: 1 } })
    expect(await answer(response)).toEqual(refused(['user_id must be a string', 'timestamp must be a string']))
  })

  test('nothing was stored, and no site was created', async () => {
    expect(await storedEvents()).toBe(0)
    const [row] = await stack.database.sql<{ n: number }[]>`select count(*)::int as n from sites`
    expect(row!.n).toBe(0)
  })
})

test("the API never serves Bun's development error page", () => {
  expect(stack.app.server!.development).toBe(false)
})

describe('the error handler answers JSON whatever it is given', () => {
  const logged: string[] = []
  // A log sink that fails while an error is mapped stands for any failure inside the handler.
  const log = {
    info() {},
    warn() {},
    error: (msg: string) => {
      logged.push(msg)
      if (msg === 'unhandled error') throw new Error('log sink unavailable')
    },
  }
  const app = new Elysia()
    .use(errorHandler(log))
    .get('/file', () => {
      throw new InvalidFileType('avatar', 'image/*')
    })
    .get('/boom', () => {
      throw new Error('a bug')
    })
    .get('/unprintable', () => {
      throw { toString: 1 }
    })
    .get('/response', () => ({ wrong: 1 }) as unknown as { right: string }, { response: t.Object({ right: t.String() }) })

  const request = async (method: string, path: string, body?: string) => {
    const response = await app.handle(new Request(`http://localhost${path}`, { method, body, headers: { 'content-type': 'application/json' } }))
    return { status: response.status, json: (response.headers.get('content-type') ?? '').startsWith('application/json'), body: await response.json() }
  }
  const internal = { status: 500, json: true, body: { error: 'Internal server error' } }

  test.each([
    ['a file of the wrong type', '/file', { status: 400, json: true, body: { error: 'body has a file of a type this route does not accept' } }],
    ['a thrown value that cannot be printed', '/unprintable', internal],
    ['a response that fails its own schema (a bug, not a bad request)', '/response', internal],
  ])('%s', async (_, path, expected) => {
    expect(await request('GET', path)).toEqual(expected)
  })

  test('a statement Postgres cancels after its statement_timeout is a 503 saying so, with Retry-After', async () => {
    const slow = createDb(stack.database.url, { max: 1, statementTimeoutMs: 50 })
    try {
      const timed = new Elysia().use(errorHandler(log)).get('/slow', () => slow.db.execute(sql`select pg_sleep(2)`))
      const response = await timed.handle(new Request('http://localhost/slow'))
      expect([response.status, response.headers.get('retry-after')]).toEqual([503, '5'])
      expect(await response.json()).toEqual({
        error: `the question took longer than ${STATEMENT_TIMEOUT_MS / 1000} s to answer; ask about a shorter range or with fewer filters`,
        retryAfterSeconds: 5,
      })
    } finally {
      await slow.close()
    }
  })

  test('a failure while mapping an error falls back to a logged static 500', async () => {
    logged.length = 0
    expect(await request('GET', '/boom')).toEqual(internal)
    expect(logged).toEqual(['unhandled error', 'error handler failed'])
  })
})
