/**
 * Property-based fuzz of every route the API serves (seeded and bounded; set FUZZ_SEED to explore
 * other inputs, the failing request is printed with the seed). The API and a worker run in this
 * process on their own database and queue.
 *
 * Properties of every answer: below 500 (except the documented 503 of /health); a 4xx is JSON
 * carrying a non-empty `error` string; no stack trace, file path or HTML page, except where HTML
 * is served by design (the login form, the API description page, and for the admin the dashboard
 * and Bull Board). Whether a route answers 200 or 401 without credentials is not a property here. After the run: every event answered 202 is stored, and
 * no refused one.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import fc from 'fast-check'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startStack, type Stack } from '../support'
import { deepArray, deepObject } from './fuzz-cases'

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_203)
const RUNS = 3_000
/** Site ids of the events the fuzz may get accepted; no `_` or `%`, which LIKE would read as wildcards. */
const PREFIX = 'pfz-'

let stack: Stack
let dashboardDir: string
beforeAll(async () => {
  // A built dashboard, so `/` and /assets answer as in production rather than 503 "not built".
  dashboardDir = await mkdtemp(join(tmpdir(), 'property-fuzz-'))
  await mkdir(join(dashboardDir, 'assets'))
  await writeFile(join(dashboardDir, 'index.html'), '<!doctype html><html><body>dashboard</body></html>')
  await writeFile(join(dashboardDir, 'assets', 'x.js'), 'console.log(1)')
  stack = await startStack('property_fuzz', { dashboardDir })
})
afterAll(async () => {
  await stack?.close()
  await rm(dashboardDir, { recursive: true, force: true })
})

interface FuzzRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
  /** Sent with the admin's credentials. */
  admin: boolean
}

/** What must never be in an answer: a stack frame, a file path, an HTML page. */
const LEAKS = ['    at ', '/work/', 'node_modules', '.ts:', '<!doctype', '<html']
const leaks = (text: string) => LEAKS.find((marker) => text.toLowerCase().includes(marker))

/** Every byte percent-encoded (lone surrogates become U+FFFD), so any string fits in a URL. */
const pct = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')

// Values that break naive code: no callable toString/valueOf, prototype keys, numbers JSON
// can write but JavaScript cannot hold, nesting around the 16-level limit.
const UNPRINTABLE = [
  '{"toString":1}',
  '[{"toString":1}]',
  '{"toString":{},"valueOf":null}',
  '{"valueOf":1}',
  '{"toJSON":1}',
  '{"toJSON":"x","toString":[]}',
  '{"__proto__":{"toString":1}}',
  '{"__proto__":null}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"prototype":1}',
]
const HUGE = ['1e400', '-1e400', '-0', '18446744073709551616', '-18446744073709551617', '1e-400', '123456789012345678901234567890']
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'toJSON', 'hasOwnProperty']
const EVENT_FIELDS = [
  'site_id',
  'event_type',
  'path',
  'user_id',
  'timestamp',
  'event_id',
  'derive_user_id',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_term',
  'screen_width',
  'user_agent',
  'ip',
  'country',
  'props',
]
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  '',
  '\u0000',
]

/** The JSON text of a value a field should not have (or, by chance, one it may). */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...UNPRINTABLE) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.object({ maxDepth: 2 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.nat({ max: 40 }).map(deepArray) },
  { weight: 1, arbitrary: fc.nat({ max: 40 }).map(deepObject) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map((text) => JSON.stringify(text)) },
)

type Fields = [key: string, json: string][]

/** A valid event, as ordered fields (so `__proto__` stays a key like any other). */
const validEvent: fc.Arbitrary<Fields> = fc
  .record({
    site: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
    eventType: fc.constantFrom('page_view', 'click', 'signup'),
    path: fc.constantFrom(
      '/',
      '/home',
      '/a?b=c',
      '/ünï',
      '?utm_source=%00x',
      '/p?utm_medium=%ED%A0%80&utm_source=%FF#f',
      '#only',
      `/q?utm_campaign=${'x'.repeat(300)}`,
    ),
    userId: fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), { nil: undefined }),
    minutesAgo: fc.nat({ max: 7 * 24 * 60 }),
    eventId: fc.option(fc.uuid(), { nil: undefined }),
    visit: fc.record(
      {
        referrer: fc.oneof(fc.webUrl(), fc.constantFrom('', 'android-app://com.x', 'https://[::1]:99/a?b#c', 'http://xn--nxasmq6b.com/')),
        utm_source: fc.string({ maxLength: 8 }),
        screen_width: fc.integer({ min: 1, max: 100_000 }),
        user_agent: fc.constantFrom(...AGENTS),
        ip: fc.oneof(fc.ipV4(), fc.ipV6()),
        country: fc.constantFrom('US', 'fr', 'Gb'),
        props: fc.dictionary(
          fc.oneof(fc.constantFrom('plan', 'a.b-c_d', '__proto__', 'constructor', 'has space', ''), fc.string({ maxLength: 6 })),
          fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant({})),
          { maxKeys: 4 },
        ),
      },
      { requiredKeys: [] },
    ),
  })
  .map((e) => {
    const fields: Fields = [
      ['site_id', JSON.stringify(PREFIX + e.site)],
      ['event_type', JSON.stringify(e.eventType)],
      ['path', JSON.stringify(e.path)],
      ['timestamp', JSON.stringify(new Date(Date.now() - e.minutesAgo * 60_000).toISOString())],
    ]
    if (e.userId !== undefined) fields.push(['user_id', JSON.stringify(e.userId)])
    if (e.eventId !== undefined) fields.push(['event_id', JSON.stringify(e.eventId)])
    for (const [name, value] of Object.entries(e.visit)) fields.push([name, JSON.stringify(value)])
    return fields
  })

const mutation = fc.record({
  kind: fc.constantFrom('set', 'add', 'delete'),
  key: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...EVENT_FIELDS) },
    { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  ),
  value: hostileValue,
})

/** A valid event with 0 to 3 hostile changes at random field positions. */
const eventText: fc.Arbitrary<string> = fc.tuple(validEvent, fc.array(mutation, { maxLength: 3 })).map(([fields, mutations]) => {
  let result = fields
  for (const { kind, key, value } of mutations) {
    if (kind === 'delete') result = result.filter(([k]) => k !== key)
    else if (kind === 'set' && result.some(([k]) => k === key)) result = result.map(([k, v]) => [k, k === key ? value : v])
    else result = [...result, [key, value]]
  }
  return `{${result.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`
})

const INVALID_UTF8 = [[0xff], [0xc0, 0xaf], [0xe0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xc3]]

/** An event's JSON with invalid UTF-8 bytes spliced in, or random bytes. */
const invalidUtf8: fc.Arbitrary<Uint8Array<ArrayBuffer>> = fc.oneof(
  fc.tuple(eventText, fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([text, at, bad]) => {
    const bytes = Buffer.from(text)
    const cut = at % (bytes.length + 1)
    return new Uint8Array([...bytes.subarray(0, cut), ...bad, ...bytes.subarray(cut)])
  }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => new Uint8Array(bytes)),
)

const truncated = fc.tuple(eventText, fc.nat()).map(([text, at]) => text.slice(0, at % text.length))

const eventBody: fc.Arbitrary<string | Uint8Array<ArrayBuffer>> = fc.oneof(
  { weight: 6, arbitrary: eventText },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: truncated },
  { weight: 1, arbitrary: hostileValue },
)

const batchBody: fc.Arbitrary<string | Uint8Array<ArrayBuffer>> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.array(eventText, { maxLength: 5 }), fc.option(fc.tuple(fc.constantFrom(...PROTO_KEYS, 'extra'), hostileValue), { nil: undefined }))
      .map(([events, extra]) => `{"events":[${events.join(',')}]${extra ? `,${JSON.stringify(extra[0])}:${extra[1]}` : ''}}`),
  },
  { weight: 1, arbitrary: hostileValue.map((value) => `{"events":${value}}`) },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: truncated.map((text) => `{"events":[${text}`) },
)

const siteUpdateBody: fc.Arbitrary<string | Uint8Array<ArrayBuffer>> = fc.oneof(
  fc.constantFrom('UTC', 'Europe/Paris', 'Asia/Kolkata', 'Nope/Zone', '').map((zone) => JSON.stringify({ timezone: zone })),
  hostileValue.map((value) => `{"timezone":${value}}`),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), hostileValue).map(([key, value]) => `{"timezone":"UTC",${JSON.stringify(key)}:${value}}`),
  invalidUtf8,
  hostileValue,
)

const goalBody: fc.Arbitrary<string | Uint8Array<ArrayBuffer>> = fc.oneof(
  fc
    .record(
      {
        event_type: fc.oneof(fc.constantFrom('signup', ''), fc.string({ maxLength: 70 })),
        page: fc.constantFrom('/thanks', '/blog/*', 'thanks', '/a?b', '*', '/%00', '/\\_%'),
        name: fc.string({ maxLength: 130 }),
      },
      { requiredKeys: [] },
    )
    .map((goal) => JSON.stringify(goal)),
  hostileValue.map((value) => `{"event_type":${value}}`),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), hostileValue).map(([key, value]) => `{"page":"/x",${JSON.stringify(key)}:${value}}`),
  invalidUtf8,
  hostileValue,
)

const funnelBody: fc.Arbitrary<string | Uint8Array<ArrayBuffer>> = fc.oneof(
  fc
    .record(
      { name: fc.string({ maxLength: 130 }), steps: fc.array(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })), { maxLength: 10 }) },
      { requiredKeys: [] },
    )
    .map((funnel) => JSON.stringify(funnel)),
  hostileValue.map((value) => `{"name":"f","steps":${value}}`),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), hostileValue).map(([key, value]) => `{"name":"f",${JSON.stringify(key)}:${value}}`),
  invalidUtf8,
  hostileValue,
)

/** A JSON object of some of these fields with plausible or hostile values, or hostile JSON itself. */
const objectBody = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string | Uint8Array<ArrayBuffer>> =>
  fc.oneof(
    fc.record(fields, { requiredKeys: [] }).map((record) => JSON.stringify(record)),
    fc.tuple(fc.constantFrom(...Object.keys(fields)), hostileValue).map(([key, value]) => `{${JSON.stringify(key)}:${value}}`),
    fc.tuple(fc.constantFrom(...PROTO_KEYS), hostileValue).map(([key, value]) => `{${JSON.stringify(key)}:${value}}`),
    invalidUtf8,
    hostileValue,
  )
const userBody = objectBody({
  username: fc.oneof(fc.constantFrom('viewer1', 'a b', '', 'x'.repeat(65), '__proto__'), fc.string({ maxLength: 10 })),
  password: fc.oneof(fc.constantFrom('short', 'long-enough-password'), fc.string({ maxLength: 300 })),
  role: fc.constantFrom('admin', 'viewer', 'root', ''),
  sites: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  disabled: fc.oneof(fc.boolean(), fc.constant('yes')),
})
const passwordBody = objectBody({ current_password: fc.string({ maxLength: 20 }), new_password: fc.string({ maxLength: 20 }), next: fc.constantFrom('/', '//evil') })
const tokenBody = objectBody({ name: fc.string({ maxLength: 130 }), password: fc.string({ maxLength: 20 }) })
const tokenId = fc.oneof(fc.uuid(), fc.constantFrom('42', '%00'))
const shareToken = fc.oneof(
  fc.constantFrom(`sl_${'A'.repeat(43)}`, 'sl_', `ak_${'A'.repeat(43)}`, '%00', 'x'.repeat(300)),
  fc.string({ maxLength: 50 }).map(encodeURIComponent),
)

const formBody = fc
  .array(
    fc.tuple(
      fc.constantFrom('user', 'password', 'next', '__proto__', 'constructor', 'user[]'),
      fc.oneof(fc.string({ maxLength: 10 }).map(pct), fc.constantFrom('%zz', '%00', '%', 'admin', '/', '//evil')),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'))

const QUERY_KEYS = [
  'site_id',
  'date',
  'from',
  'to',
  'tz',
  'limit',
  'interval',
  'next',
  'property',
  'page',
  'funnel_id',
  'filters',
  'format',
  'confirm',
  ...PROTO_KEYS,
  '',
  'site_id[]',
  'site_id[0]',
  'a.b',
]
const RAW_QUERY_VALUES = [
  '%00',
  'a%00b',
  '%zz',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  '%FF',
  '%ED%A0%80',
  '1e400',
  '-0',
  '18446744073709551616',
  '2025-11-14',
  '2025-02-30',
  'Europe%2FParis',
  'Asia%2FKolkata',
  'UTC',
  'hour',
  'week',
  '10',
  '0',
  '101',
  '1000',
  '1001',
  'source',
  'page',
  'country',
  'goal',
  'props:plan',
  'props%3Aa.b',
  'props:',
  'Source',
  `${PREFIX}q`,
  '00000000-0000-4000-8000-000000000000',
  'source%3D%3DGoogle',
  'goal%3D%3Dx%7Cy',
  'page~%5C',
  'props%3Aplan!%3D%5C%7C%3B',
  'country%3D%3D%3B%3B',
  'csv',
  'ndjson',
  'json',
  'CSV',
  '+',
  '%2B',
  '',
]
const queryValue = fc.oneof(
  fc.constantFrom(...RAW_QUERY_VALUES),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 6 }).map(pct),
)
const queryKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...QUERY_KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map(encodeURIComponent) },
)
const validStatsQuery = fc.constantFrom(`site_id=${PREFIX}q&date=2025-11-14`, `site_id=${PREFIX}q&from=2025-11-01&to=2025-11-14`, `site_id=${PREFIX}q`, '')
/** Repeated keys (an array of pairs) or unique ones (a dictionary), after an optional valid start. */
const query = fc
  .tuple(
    validStatsQuery,
    fc.oneof(
      fc.array(fc.tuple(queryKey, queryValue), { maxLength: 6 }),
      fc.dictionary(queryKey, queryValue, { maxKeys: 5 }).map((d) => Object.entries(d)),
    ),
  )
  .map(([start, pairs]) => [start, ...pairs.map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('&'))

const siteId = fc.oneof(
  fc.constantFrom(`${PREFIX}s`, '%00', 'a%00b', '%zz', '%FF', 'x'.repeat(200), '__proto__', 'constructor'),
  fc.string({ unit: 'binary', maxLength: 8 }).map(pct),
)
const unknownPath = fc.array(fc.string({ maxLength: 8 }).map(encodeURIComponent), { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`)

interface Route {
  method: string
  path: fc.Arbitrary<string>
  body?: fc.Arbitrary<string | Uint8Array<ArrayBuffer>>
}
const fixed = (...paths: string[]) => fc.constantFrom(...paths)
const withQuery = (path: string) => query.map((q) => (q ? `${path}?${q}` : path))

const ROUTES: [weight: number, Route][] = [
  [8, { method: 'POST', path: fixed('/event'), body: eventBody }],
  [6, { method: 'POST', path: fixed('/events'), body: batchBody }],
  [2, { method: 'GET', path: fc.oneof(withQuery('/stats'), withQuery('/stats/timeseries'), withQuery('/stats/realtime'), withQuery('/stats/breakdown')) }],
  [
    1,
    {
      method: 'GET',
      path: fixed(
        '/sites',
        '/ingest/queue',
        '/metrics',
        '/health',
        '/script.js',
        '/openapi',
        '/openapi/json',
        '/',
        '/assets/x.js',
        '/assets/nope',
        '/assets/',
        '/assets/.',
        '/assets/..%2F..%2Fetc%2Fpasswd',
      ),
    },
  ],
  [2, { method: 'PUT', path: siteId.map((id) => `/sites/${id}`), body: siteUpdateBody }],
  [1, { method: 'POST', path: siteId.map((id) => `/sites/${id}/goals`), body: goalBody }],
  [
    1,
    {
      method: 'DELETE',
      path: fc
        .tuple(siteId, fc.oneof(fc.uuid(), fc.constantFrom('42', '%00', '00000000-0000-0000-0000-00000000000g')))
        .map(([id, goal]) => `/sites/${id}/goals/${goal}`),
    },
  ],
  [1, { method: 'GET', path: siteId.map((id) => `/sites/${id}/goals`) }],
  [1, { method: 'POST', path: siteId.map((id) => `/sites/${id}/funnels`), body: funnelBody }],
  [1, { method: 'DELETE', path: fc.tuple(siteId, fc.oneof(fc.uuid(), fc.constantFrom('42', '%00'))).map(([id, funnel]) => `/sites/${id}/funnels/${funnel}`) }],
  [
    1,
    {
      method: 'GET',
      path: fc.oneof(
        siteId.map((id) => `/sites/${id}/funnels`),
        withQuery('/stats/funnel'),
      ),
    },
  ],
  [1, { method: 'GET', path: fc.tuple(siteId, query).map(([id, q]) => `/sites/${id}/export${q ? `?${q}` : ''}`) }],
  // The confirm never equals a site with events (pfz-s is confirmed by no query value), so nothing is deleted.
  [1, { method: 'DELETE', path: fc.tuple(siteId, query).map(([id, q]) => `/sites/${id}${q ? `?${q}` : ''}`) }],
  [1, { method: 'GET', path: withQuery('/ingest/ledger') }],
  [
    1,
    {
      method: 'GET',
      path: fc.oneof(
        withQuery('/login'),
        fixed('/admin/queues', '/admin/queues/', '/admin/queues/api/queues', '/admin/queues/static/x.js', '/admin/queues/queue/nope'),
      ),
    },
  ],
  [1, { method: 'POST', path: fixed('/login'), body: fc.oneof(formBody, eventBody) }],
  [1, { method: 'POST', path: fixed('/users'), body: userBody }],
  [1, { method: 'PATCH', path: tokenId.map((id) => `/users/${id}`), body: userBody }],
  [1, { method: 'DELETE', path: tokenId.map((id) => `/users/${id}`) }],
  [1, { method: 'GET', path: fixed('/users', '/account', '/account/password') }],
  [1, { method: 'POST', path: fixed('/account/password'), body: fc.oneof(passwordBody, formBody) }],
  [1, { method: 'POST', path: fc.tuple(siteId, fc.constantFrom('shared-links', 'api-keys')).map(([id, kind]) => `/sites/${id}/${kind}`), body: tokenBody }],
  [1, { method: 'GET', path: fc.tuple(siteId, fc.constantFrom('shared-links', 'api-keys')).map(([id, kind]) => `/sites/${id}/${kind}`) }],
  [
    1,
    {
      method: 'DELETE',
      path: fc.tuple(siteId, fc.constantFrom('shared-links', 'api-keys'), tokenId).map(([id, kind, token]) => `/sites/${id}/${kind}/${token}`),
    },
  ],
  [1, { method: 'POST', path: shareToken.map((token) => `/share/${token}/session`), body: tokenBody }],
  [1, { method: 'GET', path: shareToken.map((token) => `/share/${token}`) }],
  [1, { method: 'POST', path: fixed('/logout') }],
  [1, { method: 'GET', path: unknownPath }],
]

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/xml',
  'application/octet-stream',
  'x/y; a="b',
  '',
  '*/*',
]
const ascii = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength })
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined })

const headers = (admin: boolean) =>
  fc
    .record({
      'content-type': optional(fc.constantFrom(...CONTENT_TYPES)),
      cookie: optional(
        fc.oneof(fc.constantFrom('session=garbage', 'session=a.b', 'session=', '__proto__=1', 'session={"toString":1}', 'a=%zz', 'session=%00'), ascii(20)),
      ),
      authorization: admin
        ? fc.constant(stack.adminHeaders.authorization)
        : optional(
            fc.oneof(
              fc.constantFrom(
                'Basic !!!',
                `Basic ${btoa('admin:wrong')}`,
                'Bearer x',
                `Bearer sl_${'A'.repeat(43)}`,
                `Bearer ak_${'B'.repeat(43)}`,
                `Bearer ss_${'C'.repeat(43)}`,
                'Basic',
                'Digest x',
                `Basic ${btoa('\u00ff:\u0000')}`,
              ),
              ascii(20),
            ),
          ),
      accept: optional(fc.constantFrom('text/html', 'application/json', '*/*', 'text/html,application/xhtml+xml', '')),
      'x-request-id': optional(ascii(70)),
    })
    .map((record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Record<string, string>)

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']

const request: fc.Arbitrary<FuzzRequest> = fc
  .oneof(...ROUTES.map(([weight, route]) => ({ weight, arbitrary: fc.constant(route) })))
  .chain((route) =>
    fc.record({
      method: fc.oneof({ weight: 6, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      path: route.path,
      admin: fc.boolean(),
      body: route.body ? optional(route.body) : fc.constant(undefined),
    }),
  )
  .chain(({ admin, ...rest }) => headers(admin).map((h) => ({ ...rest, admin, headers: h })))
  .map((r) => (r.method === 'GET' || r.method === 'HEAD' ? { ...r, body: undefined } : r))
  // An answer may echo the request (a path, a field name); such a request would not tell a leak.
  .filter(
    (r) =>
      !leaks([r.path, safeDecode(r.path), ...Object.values(r.headers), typeof r.body === 'string' ? r.body : Buffer.from(r.body ?? []).toString()].join('\n')),
  )

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

const routeOf = (path: string) => path.split('?')[0]!.replace(/(.)\/$/, '$1')

/** Routes that answer with an HTML page by design. */
function htmlByDesign(r: FuzzRequest): boolean {
  const path = routeOf(r.path)
  return (
    path === '/login' ||
    path === '/openapi' ||
    path.startsWith('/share/') ||
    (r.admin && (path === '/' || path === '/account/password' || path === '/admin/queues' || path.startsWith('/admin/queues/')))
  )
}

interface Answer {
  status: number
  contentType: string
  text: string
}

/** What is wrong with the answer, if anything. */
function problemWith(r: FuzzRequest, answer: Answer): string | undefined {
  const health = routeOf(r.path) === '/health' && answer.status === 503 && answer.text.includes('"unhealthy"')
  if (answer.status >= 500 && !health) return `server error ${answer.status}`
  // A HEAD answer has the headers of the GET answer and no body.
  if (r.method === 'HEAD') return undefined
  if (answer.status >= 400 && !answer.contentType.includes('json') && !htmlByDesign(r)) return 'an error answer that is not JSON'
  if (answer.status >= 400 && answer.contentType.includes('json')) {
    let error: unknown
    try {
      error = (JSON.parse(answer.text) as { error?: unknown }).error
    } catch {
      return 'a JSON error answer that does not parse'
    }
    if (typeof error !== 'string' || error.length === 0) return 'an error answer without an error string'
  }
  const leak = leaks(answer.text)
  if (leak && !(htmlByDesign(r) && leak.startsWith('<'))) return `the answer contains ${JSON.stringify(leak)}`
  return undefined
}

/** Distinct (site, event id) pairs answered 202, and the jobs that carry them. */
const accepted = new Set<string>()
const jobIds = new Set<string>()

function recordAccepted(r: FuzzRequest, text: string) {
  const answer = JSON.parse(text) as { jobId?: string; eventId?: string; dropped?: unknown; results?: { index: number; status: string; eventId?: string }[] }
  // A 202 means the body was valid JSON, so the site ids can be read back from it.
  const sent = JSON.parse(typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body)) as { site_id?: string; events?: { site_id: string }[] }
  // Bots are answered 202 too, with nothing queued: no job, and their events are not stored.
  if (answer.jobId !== undefined) jobIds.add(answer.jobId)
  if (answer.eventId !== undefined && answer.dropped === undefined) accepted.add(`${sent.site_id}\u0000${answer.eventId}`)
  for (const result of answer.results ?? []) {
    if (result.status === 'accepted') accepted.add(`${sent.events![result.index]!.site_id}\u0000${result.eventId}`)
  }
}

test('every route answers hostile requests below 500 with the documented JSON errors, leaks nothing, and stores exactly the accepted events', async () => {
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const response = await fetch(stack.baseUrl + r.path, { method: r.method, headers: r.headers, body: r.body, redirect: 'manual' })
      const answer = { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      const problem = problemWith(r, answer)
      if (problem) throw new Error(`${problem}: ${r.method} ${r.path} -> ${answer.status} ${answer.contentType} ${answer.text.slice(0, 300)}`)
      if (answer.status === 202 && (routeOf(r.path) === '/event' || routeOf(r.path) === '/events') && r.method === 'POST') recordAccepted(r, answer.text)
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  )
  // The run must have reached both sides of ingestion, or the count below proves little.
  expect(statuses.get(202)).toBeGreaterThan(0)
  expect(statuses.get(400)).toBeGreaterThan(0)

  await stack.flush()
  await stack.jobs.wait([...jobIds])
  const [row] = await stack.database.sql<{ prefixed: number; others: number }[]>`
      select count(*) filter (where site_id like ${PREFIX + '%'})::int as prefixed,
             count(*) filter (where site_id not like ${PREFIX + '%'})::int as others
        from events`
  const keys = [...accepted]
  expect(row).toEqual({ prefixed: keys.filter((key) => key.startsWith(PREFIX)).length, others: keys.filter((key) => !key.startsWith(PREFIX)).length })
}, 60_000)
