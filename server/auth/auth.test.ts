import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startStack, type Stack } from '../../tests/support'
import { syncConfiguredAdmin } from '../accounts/store'
import { SESSION_COOKIE, tokenHash } from './session'
import { safeNext } from './routes'

let stack: Stack
const STATS_KEY = 'stats-key-for-tests'
beforeAll(async () => {
  stack = await startStack('auth', { statsApiKey: STATS_KEY })
})
afterAll(() => stack.close())

const html = { accept: 'text/html' }
const noRedirect = { redirect: 'manual' as const }

async function login(password = stack.admin.password, headers: Record<string, string> = {}) {
  return fetch(`${stack.baseUrl}/login`, {
    method: 'POST',
    body: new URLSearchParams({ user: stack.admin.user, password, next: '/admin/queues' }),
    headers,
    ...noRedirect,
  })
}

const sessionOf = (response: Response) => response.headers.get('set-cookie')!.split(';')[0]!

describe('admin pages', () => {
  test('a browser without a session is sent to the login form, keeping where it wanted to go', async () => {
    const response = await fetch(`${stack.baseUrl}/admin/queues?status=failed`, { headers: html, ...noRedirect })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/login?next=%2Fadmin%2Fqueues%3Fstatus%3Dfailed')
    const form = await fetch(`${stack.baseUrl}/login?next=%2Fadmin%2Fqueues`)
    expect(form.status).toBe(200)
    expect(form.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(form.headers.get('x-frame-options')).toBe('DENY')
    expect(await form.text()).toContain('name="next" value="/admin/queues"')
  })

  test('programs without credentials get 401', async () => {
    for (const path of ['/', '/admin/queues', '/admin/queues/api/queues']) {
      expect((await fetch(stack.baseUrl + path, noRedirect)).status).toBe(401)
    }
    const put = await fetch(`${stack.baseUrl}/sites/x`, { method: 'PUT', body: JSON.stringify({ timezone: 'UTC' }) })
    expect(put.status).toBe(401)
  })

  test('a wrong password is refused with the form again', async () => {
    const response = await login('wrong')
    expect(response.status).toBe(401)
    expect(response.headers.get('set-cookie')).toBeNull()
    expect(await response.text()).toContain('Wrong user or password.')
  })

  test('signing in sets an HttpOnly, SameSite session cookie that opens Bull Board and the dashboard', async () => {
    const response = await login()
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/admin/queues')
    const cookie = response.headers.get('set-cookie')!
    expect(cookie).toContain(`${SESSION_COOKIE}=`)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Lax')
    expect(cookie).not.toContain('Secure') // plain http here
    const headers = { cookie: sessionOf(response) }
    const board = await fetch(`${stack.baseUrl}/admin/queues/api/queues`, { headers })
    expect(board.status).toBe(200)
    const names = ((await board.json()) as { queues: { name: string }[] }).queues.map((q) => q.name)
    expect(names).toContain(stack.location.name)
    expect(names).toContain(`${stack.location.name}-maintenance`) // the worker's scheduled upkeep
    expect((await fetch(`${stack.baseUrl}/`, { headers })).status).toBe(503) // allowed in; this stack has no dashboard build
  })

  test('behind TLS the cookie is Secure', async () => {
    const response = await login(stack.admin.password, { 'x-forwarded-proto': 'https' })
    expect(response.headers.get('set-cookie')).toContain('; Secure')
  })

  test('HTTP Basic with the admin credentials works for scripts', async () => {
    const authorization = `Basic ${btoa(`${stack.admin.user}:${stack.admin.password}`)}`
    expect((await fetch(`${stack.baseUrl}/admin/queues`, { headers: { authorization } })).status).toBe(200)
  })

  test('a made-up or tampered cookie is refused', async () => {
    const real = sessionOf(await login()).split('=')[1]!
    const tampered = `${real.slice(0, -2)}${real.endsWith('A') ? 'BB' : 'AA'}`
    for (const token of ['A'.repeat(43), tampered, 'garbage', `${real}x`]) {
      expect((await fetch(`${stack.baseUrl}/admin/queues`, { headers: { cookie: `${SESSION_COOKIE}=${token}` } })).status).toBe(401)
    }
  })

  test('signing out ends the session: the same cookie is refused afterwards', async () => {
    const cookie = sessionOf(await login())
    expect((await fetch(`${stack.baseUrl}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(200)
    const response = await fetch(`${stack.baseUrl}/logout`, { method: 'POST', headers: { cookie }, ...noRedirect })
    expect(response.status).toBe(303)
    expect(response.headers.get('set-cookie')).toContain('Max-Age=0')
    expect((await fetch(`${stack.baseUrl}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(401)
    const [row] = await stack.database
      .sql<{ count: number }[]>`select count(*)::int as count from sessions join users using (user_id) where username = ${stack.admin.user}`
    expect(row!.count).toBeGreaterThan(0) // the other tests' sessions live on: only this one ended
  })

  test('a new ADMIN_PASSWORD at start ends the sessions signed in with the old one; the same one keeps them', async () => {
    const cookie = sessionOf(await login())
    const board = () => fetch(`${stack.baseUrl}/admin/queues/api/queues`, { headers: { cookie } })
    await syncConfiguredAdmin(stack.database.db, stack.admin) // a restart with the same settings
    expect((await board()).status).toBe(200)
    const changed = { ...stack.admin, password: 'a-new-password' }
    await syncConfiguredAdmin(stack.database.db, changed)
    expect((await board()).status).toBe(401)
    expect((await login()).status).toBe(401)
    expect((await login(changed.password)).status).toBe(303)
    await syncConfiguredAdmin(stack.database.db, stack.admin)
    expect((await login()).status).toBe(303)
  })

  test('a session past its expiry is refused, and only its hash is stored', async () => {
    const cookie = sessionOf(await login())
    const token = cookie.split('=')[1]!
    const stored = await stack.database.sql<{ token_hash: string }[]>`select token_hash from sessions`
    expect(stored.some((row) => row.token_hash === token)).toBe(false)
    expect(stored.some((row) => row.token_hash === tokenHash(token))).toBe(true)
    await stack.database.sql`update sessions set expires_at = now() - interval '1 second'`
    expect((await fetch(`${stack.baseUrl}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(401)
  })
})

describe('stats with STATS_API_KEY set', () => {
  const paths = ['/stats?site_id=s&date=2025-11-14', '/stats/realtime?site_id=s', '/sites', '/ingest/ledger', '/ingest/queue']

  test('need the bearer key or a session', async () => {
    for (const path of paths) {
      expect((await stack.get(path)).status).toBe(401)
      expect((await stack.get(path, { authorization: 'Bearer wrong' })).status).toBe(401)
      expect((await stack.get(path, { authorization: `Bearer ${STATS_KEY}` })).status).toBe(200)
    }
    const cookie = sessionOf(await login())
    for (const path of paths) expect((await stack.get(path, { cookie })).status).toBe(200)
  })

  test('ingestion, health, the tracker and the API description stay public', async () => {
    const accepted = await stack.post('/event', { site_id: 'pub', event_type: 'page_view', path: '/', timestamp: '2025-11-14T10:00:00Z' })
    expect(accepted.status).toBe(202)
    for (const path of ['/health', '/script.js', '/openapi/json', '/login']) expect((await stack.get(path)).status).toBe(200)
  })
})

describe('OpenAPI', () => {
  test('describes every public route with its request and response shapes', async () => {
    const doc = (await (await stack.get('/openapi/json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; parameters?: unknown[] }>>
    }
    for (const [path, method] of [
      ['/event', 'post'],
      ['/events', 'post'],
      ['/stats', 'get'],
      ['/stats/timeseries', 'get'],
      ['/stats/realtime', 'get'],
      ['/sites', 'get'],
      ['/sites/{id}', 'put'],
      ['/ingest/ledger', 'get'],
      ['/health', 'get'],
    ] as const) {
      const operation = doc.paths[path]?.[method]
      expect(operation, `${method} ${path}`).toBeDefined()
      expect(Object.keys(operation!.responses).length).toBeGreaterThan(0)
    }
    expect(doc.paths['/event']!.post!.requestBody).toBeDefined()
    expect(Object.keys(doc.paths['/event']!.post!.responses)).toEqual(expect.arrayContaining(['202', '400', '413', '503']))
    expect(Object.keys(doc.paths).some((path) => path.startsWith('/admin'))).toBe(false)
    expect((await stack.get('/openapi')).headers.get('content-type')).toContain('text/html')
  })
})

test('only same-origin paths are followed after signing in', () => {
  expect(safeNext('/stats')).toBe('/stats')
  expect(safeNext('/?site=a&range=7d#top')).toBe('/?site=a&range=7d#top')
  expect(safeNext('/admin/queues/../queues')).toBe('/admin/queues')
  const bad = [
    '//evil.example',
    'https://evil.example',
    '/\\evil.example',
    '\\/evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    ' //evil.example',
    'evil.example',
    '',
    undefined,
    7,
  ]
  for (const next of bad) expect(safeNext(next), JSON.stringify(next)).toBe('/')
})
