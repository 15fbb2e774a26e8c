/**
 * Access is decided per route group, on the route Elysia matched: these tests speak raw HTTP over
 * a TCP socket, so the Host header, the request target and its spelling are exactly what an
 * attacker would send (fetch would normalise them). Every route the app has is tried; only the
 * documented public surface may answer 2xx without credentials.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { LOGIN_GUESSES } from '../server/access'
import { LOGIN_BODY_BYTES } from '../server/auth/routes'
import { budgetKey, forwardedClient, isLoopback, isPrivate } from '../server/client-address'
import { NO_RATE_LIMITS } from '../server/ingest/routes'
import { startStack, type Stack } from './support'

/** One request as bytes on a socket; resolves with the status and the body once the server closes. */
function raw(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    // The server closes the connection after its answer (Connection: close, or HTTP/1.0).
    socket.setTimeout(10_000, () => socket.destroy())
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, split).toLowerCase(), body: text.slice(split + 4) })
    })
    // Not end(): a half-closed socket is taken as an abandoned request.
    socket.write(request)
  })
}

/** The public surface, exactly: everything else needs credentials. */
const PUBLIC = [
  'POST /event',
  'POST /events',
  'OPTIONS /event',
  'OPTIONS /events',
  'GET /script.js',
  'GET /health',
  'GET /login',
  'POST /login',
  'POST /logout',
  'GET /assets/*',
  'GET /share/:token',
  'POST /share/:token/session',
  'GET /favicon.svg',
]
const isPublic = (method: string, path: string) => PUBLIC.includes(`${method} ${path}`) || path === '/openapi' || path.startsWith('/openapi/')

/** A concrete path for a route pattern. */
const concrete = (pattern: string) => pattern.replace(/:[^/]+/g, 'x').replace(/\*$/, 'x')

/** Spellings of one request that must all be refused the same way, whatever they do to parsing. */
function spellings(method: string, path: string, extra = ''): string[] {
  const [, first = '', ...rest] = path.split('/')
  const tail = rest.length > 0 ? `/${rest.join('/')}` : ''
  const line = (target: string, version = 'HTTP/1.1') => `${method} ${target} ${version}\r\n`
  const end = `Connection: close\r\nContent-Length: 0\r\n${extra}\r\n`
  return [
    line(path) + `Host: localhost\r\n${end}`,
    line(path) + `Host: x/y\r\n${end}`,
    line(path) + `Host: a@b\r\n${end}`,
    line(path) + `Host: localhost.\r\n${end}`,
    line(path, 'HTTP/1.0') + end,
    line(`http://other${path}`) + `Host: other\r\n${end}`,
    line(`/${path}`) + `Host: localhost\r\n${end}`,
    line(`/.${path}`) + `Host: localhost\r\n${end}`,
    line(`/${encodeURIComponent(first[0] ?? '').replace(/^[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16)}`)}${first.slice(1)}${tail}`) +
      `Host: localhost\r\n${end}`,
    line(`/${first}${tail.replaceAll('/', '%2F')}`) + `Host: localhost\r\n${end}`,
    line(`/${first.toUpperCase()}${tail}`) + `Host: localhost\r\n${end}`,
    line(`${path}/`) + `Host: localhost\r\n${end}`,
  ]
}

describe('without credentials, from anywhere, however spelled', () => {
  let stack: Stack
  let port: number
  // Loopback reads off, so readers need a key or an admin like any remote caller.
  beforeAll(async () => {
    stack = await startStack('access', { loopbackReads: false })
    port = Number(new URL(stack.baseUrl).port)
  })
  afterAll(() => stack.close())

  const protectedRoutes = () =>
    stack.app.routes
      .filter((route) => route.method !== 'ALL' && !isPublic(route.method, route.path))
      .map((route) => ({ method: route.method, path: concrete(route.path) }))

  test('the app has the routes this test expects to guard', () => {
    const paths = protectedRoutes().map((route) => `${route.method} ${route.path}`)
    for (const expected of [
      'GET /stats',
      'GET /stats/timeseries',
      'GET /stats/realtime',
      'GET /sites',
      'PUT /sites/x',
      'GET /sites/x/rebuild/x',
      'DELETE /sites/x',
      'GET /sites/x/export',
      'GET /sites/x/goals',
      'POST /sites/x/goals',
      'DELETE /sites/x/goals/x',
      'GET /sites/x/funnels',
      'POST /sites/x/funnels',
      'DELETE /sites/x/funnels/x',
      'GET /stats/funnel',
      'GET /ingest/ledger',
      'GET /ingest/queue',
      'GET /metrics',
      'GET /',
      'GET /admin/queues/api/queues',
      'GET /users',
      'POST /users',
      'PATCH /users/x',
      'DELETE /users/x',
      'GET /account',
      'POST /account/password',
      'GET /sites/x/shared-links',
      'POST /sites/x/shared-links',
      'DELETE /sites/x/shared-links/x',
      'GET /sites/x/api-keys',
      'POST /sites/x/api-keys',
      'DELETE /sites/x/api-keys/x',
    ]) {
      expect(paths).toContain(expected)
    }
  })

  test('no protected route answers 2xx (or 5xx) to any spelling', async () => {
    const failures: string[] = []
    for (const route of protectedRoutes()) {
      for (const request of spellings(route.method, route.path)) {
        const answer = await raw(port, request)
        if ((answer.status >= 200 && answer.status < 300) || answer.status >= 500 || !answer.status) {
          failures.push(`${JSON.stringify(request.split('\r\n').slice(0, 2).join(' | '))} -> ${answer.status} ${answer.body.slice(0, 120)}`)
        }
      }
    }
    expect(failures).toEqual([])
  })

  test('the same raw requests with admin credentials do get through (the test can tell)', async () => {
    const basic = `Authorization: ${stack.adminHeaders.authorization}\r\n`
    for (const path of [
      '/stats?site_id=s&date=2025-11-14',
      '/stats/breakdown?site_id=s&date=2025-11-14&property=page&format=csv',
      '/sites',
      '/sites/s/export',
      '/ingest/queue',
      '/metrics',
      '/admin/queues/api/queues',
    ]) {
      for (const request of spellings('GET', path, basic).slice(0, 6)) {
        const answer = await raw(port, request)
        expect(answer.status, request).toBe(200)
      }
    }
  })

  test('an admin path is 401 for programs and a redirect to the login form for browsers, whatever the Host', async () => {
    for (const [version, host] of [
      ['HTTP/1.1', 'Host: x/y\r\n'],
      ['HTTP/1.1', 'Host: a@b\r\n'],
      ['HTTP/1.0', ''],
    ]) {
      const program = await raw(port, `GET /admin/queues/api/queues ${version}\r\n${host}Connection: close\r\n\r\n`)
      expect(program.status).toBe(401)
      expect(JSON.parse(program.body)).toEqual({ error: 'Authentication required' })
      const browser = await raw(port, `GET /admin/queues?status=failed ${version}\r\n${host}Accept: text/html\r\nConnection: close\r\n\r\n`)
      expect(browser.status).toBe(302)
      expect(browser.head).toContain('location: /login?next=%2Fadmin%2Fqueues%3Fstatus%3Dfailed'.toLowerCase())
    }
  })

  test('a stranger cannot add a Bull Board job with a crafted Host: nothing reaches the queue', async () => {
    const before = await stack.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'failed', 'completed', 'active')
    const body = JSON.stringify({ name: 'ingest-batch', data: { events: [{ siteId: 'evil' }] } })
    for (const [version, host] of [
      ['HTTP/1.1', 'Host: x/y\r\n'],
      ['HTTP/1.0', ''],
    ]) {
      const answer = await raw(
        port,
        `POST /admin/queues/api/queues/${stack.location.name}/add ${version}\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
      expect(answer.status, answer.body).toBe(401)
    }
    expect(await stack.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'failed', 'completed', 'active')).toEqual(before)
  })

  test('unknown paths are 404 for everyone, JSON', async () => {
    for (const auth of ['', `Authorization: ${stack.adminHeaders.authorization}\r\n`]) {
      const answer = await raw(port, `GET /no/such/route HTTP/1.1\r\nHost: localhost\r\n${auth}Connection: close\r\n\r\n`)
      expect(answer.status).toBe(404)
      expect(JSON.parse(answer.body).error).toBeString()
    }
  })

  test('the public surface answers without credentials', async () => {
    for (const path of ['/health', '/script.js', '/login', '/openapi/json']) expect((await raw(port, `GET ${path} HTTP/1.0\r\n\r\n`)).status).toBe(200)
  })
})

describe('state-changing admin requests from another origin', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack('origin')
  })
  afterAll(() => stack.close())

  const put = (headers: Record<string, string>) =>
    fetch(`${stack.baseUrl}/sites/origin-site`, { method: 'PUT', headers: { ...stack.adminHeaders, ...headers }, body: JSON.stringify({ timezone: 'UTC' }) })

  test('are refused with 403, even with valid credentials', async () => {
    const host = new URL(stack.baseUrl).host
    const crossOrigin: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: `http://${host}.evil.example` },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: `http://${host}` },
    ]
    for (const headers of crossOrigin) {
      const response = await put(headers)
      expect(response.status, JSON.stringify(headers)).toBe(403)
      expect((await response.json()).error).toStartWith('Cross-origin request refused')
    }
    const board = await fetch(`${stack.baseUrl}/admin/queues/api/queues/${stack.location.name}/pause`, {
      method: 'PUT',
      headers: { ...stack.adminHeaders, origin: 'http://evil.example' },
    })
    expect(board.status).toBe(403)
    expect(await stack.queue.isPaused()).toBe(false)
    const [row] = await stack.database.sql<{ count: number }[]>`select count(*)::int as count from sites where site_id = 'origin-site'`
    expect(row!.count).toBe(0)
  })

  test("deleting a site's data from another origin is refused, and deletes nothing", async () => {
    await stack.database.sql`insert into events (site_id, event_id, event_type, path, timestamp, received_at) values ('origin-data', 'e1', 'page_view', '/', now(), now())`
    for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const response = await fetch(`${stack.baseUrl}/sites/origin-data?confirm=origin-data`, { method: 'DELETE', headers: { ...stack.adminHeaders, ...headers } })
      expect(response.status).toBe(403)
    }
    const [row] = await stack.database.sql<{ count: number }[]>`select count(*)::int as count from events where site_id = 'origin-data'`
    expect(row!.count).toBe(1)
    const same = await fetch(`${stack.baseUrl}/sites/origin-data?confirm=origin-data`, { method: 'DELETE', headers: { ...stack.adminHeaders, origin: stack.baseUrl } })
    expect(((await same.json()) as { deleted: { events: number } }).deleted.events).toBe(1)
  })

  test('same-origin browsers and programs without Origin are let through', async () => {
    expect((await put({ origin: stack.baseUrl, 'sec-fetch-site': 'same-origin' })).status).toBe(202)
    expect((await put({ origin: stack.baseUrl })).status).toBe(202)
    expect((await put({})).status).toBe(202)
  })

  test('a sign-in form posted from another origin is refused', async () => {
    const response = await fetch(`${stack.baseUrl}/login`, {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
      body: new URLSearchParams({ user: stack.admin.user, password: stack.admin.password }),
      redirect: 'manual',
    })
    expect(response.status).toBe(403)
    expect(response.headers.get('set-cookie')).toBeNull()
  })
})

describe('reads on the loopback interface while no key is set', () => {
  let open: Stack
  let keyed: Stack
  beforeAll(async () => {
    ;[open, keyed] = await Promise.all([startStack('loopback'), startStack('loopback_key', { statsApiKey: 'the-key' })])
  })
  afterAll(() => Promise.all([open.close(), keyed.close()]))

  test('need no key, as the original contract documents (curl localhost:4000/stats?...)', async () => {
    for (const path of [
      '/stats?site_id=s&date=2025-11-14',
      '/stats/timeseries?site_id=s&from=2025-11-14&to=2025-11-14&format=csv',
      '/stats/breakdown?site_id=s&date=2025-11-14&property=page&format=csv',
      '/sites',
      '/ingest/ledger',
      '/ingest/queue',
      '/metrics',
    ])
      expect((await open.get(path)).status).toBe(200)
  })

  test('are closed when a proxy relays the request (a forwarding header is present)', async () => {
    for (const headers of [{ 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }] as Record<string, string>[])
      expect((await open.get('/sites', headers)).status).toBe(401)
  })

  test('are closed once a key is configured', async () => {
    expect((await keyed.get('/sites')).status).toBe(401)
    expect((await keyed.get('/sites', { authorization: 'Bearer the-key' })).status).toBe(200)
  })

  test('admin routes are never open on loopback, nor to the stats key', async () => {
    expect((await fetch(`${open.baseUrl}/admin/queues/api/queues`)).status).toBe(401)
    expect((await fetch(`${open.baseUrl}/sites/x`, { method: 'PUT', body: '{"timezone":"UTC"}' })).status).toBe(401)
    const goal = '00000000-0000-4000-8000-000000000000'
    // Listing goals and funnels is a read of the site, like its stats; changing them is not.
    for (const path of ['/sites/x/goals', '/sites/x/funnels']) {
      expect((await fetch(`${open.baseUrl}${path}`)).status).toBe(200)
      expect((await fetch(`${keyed.baseUrl}${path}`, { headers: { authorization: 'Bearer the-key' } })).status).toBe(200)
    }
    for (const [method, path, body] of [
      ['POST', '/sites/x/goals', '{"event_type":"signup"}'],
      ['DELETE', `/sites/x/goals/${goal}`, undefined],
      ['POST', '/sites/x/funnels', `{"name":"f","steps":["${goal}","${goal}"]}`],
      ['DELETE', `/sites/x/funnels/${goal}`, undefined],
      ['GET', '/sites/x/export', undefined],
      ['GET', '/sites/x/export?format=ndjson&from=2025-11-14&to=2025-11-14', undefined],
      ['DELETE', '/sites/x?confirm=x', undefined],
    ] as const) {
      expect({ method, path, status: (await fetch(`${open.baseUrl}${path}`, { method, body })).status }).toEqual({ method, path, status: 401 })
      const withKey = await fetch(`${keyed.baseUrl}${path}`, { method, body, headers: { authorization: 'Bearer the-key' } })
      expect({ method, path, status: withKey.status }).toEqual({ method, path, status: 401 })
    }
  })

  test('loopback is told by the socket address', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address)).toBe(true)
    for (const address of ['10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', '128.0.0.1', 'localhost', '', undefined, '::2'])
      expect(isLoopback(address)).toBe(false)
  })
})

describe('budgets behind a trusted proxy', () => {
  let stack: Stack
  // 50 ms of CPU on refused bodies per address, hardly refilled: a few junk batches use it up.
  const invalidCpuMs = { rate: 0.001, burst: 50 }
  beforeAll(async () => {
    stack = await startStack('budgets', { proxy: { trustProxy: true, hops: 1 }, rateLimits: { ...NO_RATE_LIMITS, invalidCpuMs } })
  })
  afterAll(() => stack.close())

  const login = (from: string, password: string) =>
    fetch(`${stack.baseUrl}/login`, {
      method: 'POST',
      headers: { 'x-forwarded-for': from },
      body: new URLSearchParams({ user: stack.admin.user, password }),
      redirect: 'manual',
    })

  test(`after ${LOGIN_GUESSES.burst} wrong passwords an address gets 429 with Retry-After, even with the right one`, async () => {
    for (let i = 0; i < LOGIN_GUESSES.burst; i++) expect((await login('198.51.100.1', `wrong-${i}`)).status).toBe(401)
    const limited = await login('198.51.100.1', stack.admin.password)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get('set-cookie')).toBeNull()
    // Another address is not slowed down by the first one's guesses.
    expect((await login('198.51.100.2', stack.admin.password)).status).toBe(303)
  })

  test('HTTP Basic guesses share the budget', async () => {
    const basic = (password: string) =>
      fetch(`${stack.baseUrl}/admin/queues/api/queues`, {
        headers: { 'x-forwarded-for': '198.51.100.3', authorization: `Basic ${btoa(`${stack.admin.user}:${password}`)}` },
      })
    for (let i = 0; i < LOGIN_GUESSES.burst - 1; i++) expect((await basic(`wrong-${i}`)).status).toBe(401)
    const last = await basic('wrong-last')
    expect(last.status).toBe(429)
    expect((await basic(stack.admin.password)).status).toBe(429)
    expect(Number((await login('198.51.100.3', stack.admin.password)).status)).toBe(429)
  })

  test('the budget follows the rightmost untrusted hop: a client-written X-Forwarded-For entry changes nothing', async () => {
    for (let i = 0; i < LOGIN_GUESSES.burst; i++) expect((await login(`203.0.113.${i}, 198.51.100.9`, `wrong-${i}`)).status).toBe(401)
    expect((await login('203.0.113.200, 198.51.100.9', stack.admin.password)).status).toBe(429)
  })

  test('an address that keeps sending invalid events is refused with 429 before its bodies are read; others are not', async () => {
    const junk = JSON.stringify({ events: Array.from({ length: 1_000 }, (_, i) => ({ site_id: { toString: i }, event_type: 1, path: [], timestamp: 'soon' })) })
    const send = (from: string, body: string) => fetch(`${stack.baseUrl}/events`, { method: 'POST', headers: { 'x-forwarded-for': from }, body })
    const statuses: number[] = []
    for (let i = 0; i < 500 && !statuses.includes(429); i++) statuses.push((await send('192.0.2.1', junk)).status)
    expect(statuses.at(-1)).toBe(429)
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([400]))
    const valid = JSON.stringify({ events: [{ site_id: 'budget-site', event_type: 'page_view', path: '/', timestamp: new Date().toISOString() }] })
    const refused = await send('192.0.2.1', valid)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
    const answer = (await refused.json()) as { error: string; retryAfterSeconds: number }
    expect(answer.error).toStartWith('Too many invalid events')
    expect(answer.retryAfterSeconds).toBe(Number(refused.headers.get('retry-after')))
    expect((await send('192.0.2.2', valid)).status).toBe(202)
  })

  test(`a sign-in body over ${LOGIN_BODY_BYTES} bytes is refused with 413 before it is read`, async () => {
    const response = await fetch(`${stack.baseUrl}/login`, { method: 'POST', body: new URLSearchParams({ user: 'a', password: 'x'.repeat(LOGIN_BODY_BYTES) }) })
    expect(response.status).toBe(413)
    expect((await response.json()).error).toBe('Payload too large')
  })
})

test('the client behind trusted proxies is the hops-th X-Forwarded-For entry from the right', () => {
  expect(forwardedClient('203.0.113.7', 1)).toBe('203.0.113.7')
  expect(forwardedClient('6.6.6.6, 203.0.113.7', 1)).toBe('203.0.113.7')
  expect(forwardedClient('6.6.6.6, 203.0.113.7, 10.0.0.2', 2)).toBe('203.0.113.7')
  // Fewer entries than proxies: it did not come through all of them, so none is believed.
  expect(forwardedClient('203.0.113.7', 3)).toBeUndefined()
  expect(forwardedClient('2001:db8::1', 1)).toBe('2001:db8::1')
  for (const junk of ['', 'not-an-ip', '1.2.3.4, evil', '1.2.3.4:80']) expect(forwardedClient(junk, 1)).toBeUndefined()
  expect(forwardedClient(null, 1)).toBeUndefined()
})

test('X-Forwarded-For is believed only from a peer where a proxy can sit, and budgets count IPv6 by its /64', () => {
  for (const peer of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.0.9', '::1', 'fd12::1', '::ffff:10.0.0.1']) expect(isPrivate(peer), peer).toBe(true)
  for (const peer of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:8.8.8.8', undefined]) expect(isPrivate(peer), String(peer)).toBe(false)
  expect(budgetKey('2001:db8:0:1::1')).toBe(budgetKey('2001:db8:0:1:ffff:ffff:ffff:ffff'))
  expect(budgetKey('2001:db8:0:1::1')).not.toBe(budgetKey('2001:db8:0:2::1'))
  expect(budgetKey('203.0.113.7')).toBe('203.0.113.7')
})

describe('a wrong bearer key', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack('bearer_guess', { statsApiKey: 'the-right-key' })
  })
  afterAll(() => stack.close())

  test(`counts as a failed sign-in: after ${LOGIN_GUESSES.burst} the right key is refused too`, async () => {
    for (let i = 0; i < LOGIN_GUESSES.burst - 1; i++) expect((await stack.get('/sites', { authorization: `Bearer wrong-${i}` })).status).toBe(401)
    expect((await stack.get('/sites', { authorization: 'Bearer wrong-last' })).status).toBe(429)
    const limited = await stack.get('/sites', { authorization: 'Bearer the-right-key' })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })
})
