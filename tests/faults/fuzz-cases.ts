/**
 * Seeded generator of malformed requests for every public endpoint, each with the answer the API
 * must give. Every case is built to be invalid (or harmless: a read with a weird query), so none
 * may write anything.
 */
import { LOGIN_BODY_BYTES } from '../../server/auth/routes'
import { prng } from './load'

export type Expectation =
  /** 4xx (exactly `status` when given) with a JSON body whose `error` is a non-empty string. */
  | { kind: 'error'; status?: number }
  /** 200 {"status":"healthy"}, or the documented 503 {"status":"unhealthy"} when a dependency check is slow. */
  | { kind: 'health' }
  /** Below 500 with a JSON body; a 4xx carries an `error` string (weird but possibly valid reads). */
  | { kind: 'any-json' }
  /** 200 with the tracker script. */
  | { kind: 'script' }
  /** 200 with the HTML login form. */
  | { kind: 'login-form' }
  /** 401 with the HTML login form (wrong user or password). */
  | { kind: 'login-refused' }
  /** 204 CORS preflight answer, no body. */
  | { kind: 'preflight' }

export interface FuzzCase {
  id: number
  /** Kind of malformation, for grouping failures. */
  label: string
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
  /** Sent as a chunked stream (no Content-Length). */
  stream?: boolean
  expect: Expectation
}

export const FUZZ_SITE_PREFIX = 'fuzz-site-'

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'image/png',
  'application/json; charset=ebcdic',
  'x/y; a="b',
  '',
  '*/*',
]

const INVALID_TIMESTAMPS = [
  '2025-02-30T10:00:00Z',
  '2025-02-29T10:00:00Z',
  '2025-13-01T10:00:00Z',
  '2025-00-10T10:00:00Z',
  '2025-11-31T10:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-99-99T99:99:99Z',
  '2025-11-14T24:00:00Z',
  '2025-11-14T10:60:00Z',
  '2025-11-14T23:59:60Z',
  '2025-11-14T10:00Z',
  '2025-11-14T10:00:00',
  '2025-11-14',
  '2025-11-14 10:00:00Z',
  '2025-11-14t10:00:00z',
  '2025-11-14T10:00:00+25:00',
  '2025-11-14T10:00:00+05:60',
  '2025-11-14T10:00:00+0530',
  '2025-11-14T10:00:00.Z',
  '2025-11-14T10:00:00.1234567890Z',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '1731580200',
  'Fri Nov 14 2025 10:00:00 GMT+0000',
  'now',
  '',
  ' 2025-11-14T10:00:00Z',
  '2025-11-14T10:00:00Z ',
  '２０２５-11-14T10:00:00Z',
  '2025-11-14T10:00:00Z\u0000',
]

const INVALID_DATES = [
  '2025-02-30',
  '2025-02-29',
  '2025-13-01',
  '2025-00-01',
  '2025-11-31',
  '0000-01-01',
  '0001-01-01',
  '0099-12-31',
  '9999-99-99',
  '2025-1-1',
  '20251114',
  '2025/11/14',
  '14-11-2025',
  '2025-11-14T00:00:00Z',
  ' 2025-11-14',
  'today',
  '',
  '%',
  '2025-11-14%00',
  '１２３４-01-01',
]

const INVALID_ZONES = [
  'Nope/Zone',
  'UTC+5',
  '+05:00',
  '../../etc/passwd',
  'Europe/Paris ',
  'europe/paris',
  'Mars/Olympus_Mons',
  "'; select pg_sleep(10); --",
  '\u202eEurope/Paris',
  'Europe//Paris',
  'Z',
  'GMT+99',
]

const INVALID_LIMITS = ['0', '000', '101', '999', '-1', '1.5', '1e2', 'abc', '', ' 5', '5 ', '0x10', '1000', '1,2']

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'userId',
  'siteId',
  'eventType',
  'Site_id',
  'site_id ',
  '',
  ' ',
  '\u0000',
  '🔥',
  'ⓢite_id',
  'x'.repeat(300),
  '__defineGetter__',
  'valueOf',
]

/** `depth` nested arrays: [[[...]]]. */
export const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
/** `depth` nested objects: {"a":{"a":...}}. */
export const deepObject = (depth: number) => '{"a":'.repeat(depth) + '0' + '}'.repeat(depth)

type Random = () => number

/**
 * Nesting depth of the random cases: up to 2,000. Deeper values (10,000 and the 64 KiB limit)
 * are sent by dedicated tests, one at a time: each costs the API up to seconds of CPU today.
 */
const deep = (r: Random) => 100 + Math.floor(r() * 1_900)

function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!
}

const int = (r: Random, max: number) => Math.floor(r() * max)

/** A JSON text for a value that is not a string (for string fields) or is absurd anyway. */
function wrongValue(r: Random): string {
  switch (int(r, 14)) {
    case 0:
      return String(int(r, 1e6) - 5e5)
    case 1:
      return 'true'
    case 2:
      return 'false'
    case 3:
      return '{}'
    case 4:
      return '[]'
    case 5:
      return '["a","b"]'
    case 6:
      return '{"$gt":""}'
    case 7:
      return '1e309'
    case 8:
      return '-0'
    case 9:
      return '123456789012345678901234567890'
    case 10:
      return deepArray(1 + int(r, 64))
    case 11:
      return deepObject(1 + int(r, 64))
    case 12:
      return r() < 0.5 ? deepArray(deep(r)) : deepObject(deep(r))
    default:
      return `[${Array.from({ length: 1 + int(r, 50) }, () => '"x"').join(',')}]`
  }
}

/** A JSON string literal that breaks the field's rules (length, emptiness, storability). */
function badString(r: Random, maxLength: number, allowEmpty: boolean): string {
  switch (int(r, allowEmpty ? 4 : 5)) {
    case 0:
      return JSON.stringify('x'.repeat(maxLength + 1 + int(r, 3)))
    case 1:
      return JSON.stringify('é'.repeat(maxLength + 1))
    case 2:
      return `"abc\\u0000def"`
    case 3:
      return `"${pick(r, ['\\ud800', '\\udfff', 'a\\ud83d', '\\ude00b'])}"`
    default:
      return '""'
  }
}

/** Field name -> JSON text of its value, in order; a Map, so `__proto__` is a key like any other. */
type EventFields = Map<string, string>

function validEventFields(r: Random, site: string): EventFields {
  const fields: EventFields = new Map([
    ['site_id', JSON.stringify(site)],
    ['event_type', JSON.stringify(pick(r, ['page_view', 'click', 'signup']))],
    ['path', JSON.stringify(pick(r, ['/', '/home', '/a/b?c=d', '/ünï']))],
    ['timestamp', JSON.stringify('2025-11-14T10:30:00Z')],
  ])
  if (r() < 0.5) fields.set('user_id', r() < 0.2 ? 'null' : JSON.stringify(`user-${int(r, 100)}`))
  if (r() < 0.5) fields.set('event_id', JSON.stringify(`ev-${int(r, 1e9)}`))
  return fields
}

const LIMITS: Record<string, number> = { site_id: 128, event_type: 64, path: 2048, user_id: 256, event_id: 128 }

/** Applies 1 to 3 mutations, each of which alone makes the event invalid. */
function invalidEventFields(r: Random, site: string): { fields: EventFields; label: string } {
  const fields = validEventFields(r, site)
  const labels: string[] = []
  const count = 1 + int(r, 3)
  for (let i = 0; i < count; i++) {
    const field = pick(r, ['site_id', 'event_type', 'path', 'timestamp', 'user_id', 'event_id'])
    switch (int(r, 5)) {
      case 0: {
        if (field === 'user_id' || field === 'event_id') {
          // Optional fields cannot be "missing"; give them a bad value instead.
          fields.set(field, field === 'user_id' ? '{"id":1}' : '""')
          labels.push(`bad ${field}`)
        } else {
          fields.delete(field)
          labels.push(`missing ${field}`)
        }
        break
      }
      case 1: {
        fields.set(field, wrongValue(r))
        labels.push(`${field} of wrong type`)
        break
      }
      case 2: {
        if (field === 'timestamp') {
          fields.set('timestamp', JSON.stringify(pick(r, INVALID_TIMESTAMPS)))
          labels.push('impossible timestamp')
        } else {
          fields.set(field, badString(r, LIMITS[field]!, field === 'user_id'))
          labels.push(`bad string in ${field}`)
        }
        break
      }
      case 3: {
        const key = pick(r, HOSTILE_KEYS)
        fields.set(key, pick(r, ['1', '"x"', '{"polluted":true}', '{"prototype":{"polluted":true}}', 'null', '[]', deepArray(int(r, 3) === 0 ? deep(r) : 20)]))
        labels.push(`unknown field ${JSON.stringify(key.slice(0, 20))}`)
        break
      }
      default: {
        fields.set('timestamp', JSON.stringify(pick(r, INVALID_TIMESTAMPS)))
        labels.push('impossible timestamp')
      }
    }
  }
  return { fields, label: labels.join(', ') }
}

const objectText = (fields: EventFields) => `{${[...fields].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`

/** Whole-body malformations that can never be a valid event or batch. */
function malformedBody(r: Random): { body: string | Uint8Array<ArrayBuffer>; label: string } {
  switch (int(r, 16)) {
    case 0:
      return { body: '', label: 'empty body' }
    case 1:
      return {
        body: pick(r, ['{', '{"site_id":', '{"a":1,}', "{'site_id':'x'}", '{"site_id":"x"', 'nul', 'undefined', 'NaN', '{site_id:1}', '[1,2', '"unterminated']),
        label: 'truncated JSON',
      }
    case 2:
      return { body: pick(r, ['[]', '[{}]', '"text"', '42', 'null', 'true', '-1e999', '""']), label: 'JSON that is not an object' }
    case 3:
      return { body: deepArray(deep(r)), label: 'deep array body' }
    case 4:
      return { body: deepObject(deep(r)), label: 'deep object body' }
    case 5:
      return { body: 'site_id=x&event_type=page_view&path=/&timestamp=2025-11-14T10:00:00Z', label: 'form-encoded body' }
    case 6:
      return { body: '<event><site_id>x</site_id></event>', label: 'XML body' }
    case 7: {
      const bad = pick(r, [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xff]])
      const text = new TextEncoder().encode('{"site_id":"')
      const rest = new TextEncoder().encode('","event_type":"page_view","path":"/","timestamp":"2025-11-14T10:00:00Z"}')
      return { body: new Uint8Array([...text, ...bad, ...rest]), label: 'invalid UTF-8 bytes' }
    }
    case 8:
      return { body: '\ufeff{"site_id":""}', label: 'BOM and invalid object' }
    case 9:
      return { body: `{"site_id":"x"}${' '.repeat(int(r, 10))}{"site_id":"y"}`, label: 'two JSON documents' }
    case 10:
      return { body: '\u0000\u0001\u0002binary\u00ff', label: 'control bytes' }
    case 11:
      return {
        body: `{"site_id":"x","site_id":5,"event_type":"page_view","path":"/","timestamp":"2025-11-14T10:00:00Z"}`,
        label: 'duplicate keys, last invalid',
      }
    case 12:
      return {
        body: `{"__proto__":{"site_id":"x","event_type":"page_view","path":"/","timestamp":"2025-11-14T10:00:00Z"}}`,
        label: '__proto__ carrying the fields',
      }
    case 13:
      return { body: `{"constructor":{"prototype":{"polluted":true}}}`, label: 'constructor.prototype pollution' }
    case 14:
      return { body: JSON.stringify({ a: 'x'.repeat(1000 + int(r, 20_000)) }), label: 'large unknown field' }
    default:
      return { body: ' \n\t\r ', label: 'whitespace body' }
  }
}

function maybeContentType(r: Random): Record<string, string> {
  const type = pick(r, CONTENT_TYPES)
  return type ? { 'content-type': type } : {}
}

function eventCase(r: Random, site: string): Omit<FuzzCase, 'id'> {
  const roll = r()
  if (roll < 0.6) {
    const { fields, label } = invalidEventFields(r, site)
    return {
      label: `POST /event: ${label}`,
      method: 'POST',
      path: '/event',
      headers: maybeContentType(r),
      body: objectText(fields),
      expect: { kind: 'error', status: 400 },
    }
  }
  if (roll < 0.9) {
    const { body, label } = malformedBody(r)
    return { label: `POST /event: ${label}`, method: 'POST', path: '/event', headers: maybeContentType(r), body, expect: { kind: 'error', status: 400 } }
  }
  if (roll < 0.95) {
    // Over 64 KiB: refused before parsing, whether the length is declared or streamed.
    const fields = validEventFields(r, site)
    fields.set('path', JSON.stringify(`/${'p'.repeat(66_000 + int(r, 10_000))}`))
    const stream = r() < 0.5
    return {
      label: `POST /event: body over 64 KiB${stream ? ' (chunked)' : ''}`,
      method: 'POST',
      path: '/event',
      headers: maybeContentType(r),
      body: objectText(fields),
      stream,
      expect: { kind: 'error', status: 413 },
    }
  }
  const method = pick(r, ['GET', 'PUT', 'PATCH', 'DELETE'])
  return {
    label: `${method} /event`,
    method,
    path: '/event',
    headers: maybeContentType(r),
    body: method === 'GET' ? undefined : objectText(validEventFields(r, site)),
    expect: { kind: 'error', status: 404 },
  }
}

function batchCase(r: Random, site: string): Omit<FuzzCase, 'id'> {
  const roll = r()
  if (roll < 0.45) {
    // Every item invalid: 400 with per-item results.
    const items = Array.from({ length: 1 + int(r, 20) }, () =>
      r() < 0.8 ? objectText(invalidEventFields(r, site).fields) : pick(r, ['1', '"x"', 'null', '[]', deepArray(30), '{}']),
    )
    return {
      label: 'POST /events: every item invalid',
      method: 'POST',
      path: '/events',
      headers: maybeContentType(r),
      body: `{"events":[${items.join(',')}]}`,
      expect: { kind: 'error', status: 400 },
    }
  }
  if (roll < 0.75) {
    const bodies: [string, string][] = [
      ['{"events":[]}', 'empty batch'],
      ['{}', 'no events'],
      ['{"events":null}', 'events null'],
      ['{"events":{}}', 'events an object'],
      ['{"events":"[]"}', 'events a string'],
      [`{"events":${deepArray(deep(r))}}`, 'events deeply nested'],
      [`{"events":[${objectText(validEventFields(r, site))}],"extra":1}`, 'valid event and an unknown top-level field'],
      [`{"events":[${objectText(validEventFields(r, site))}],"__proto__":{"x":1}}`, 'valid event and __proto__'],
      [`{"Events":[${objectText(validEventFields(r, site))}]}`, 'misspelt events'],
      [`{"events":[${Array.from({ length: 1001 }, () => objectText(validEventFields(r, site))).join(',')}]}`, '1,001 valid events'],
      [`[${objectText(validEventFields(r, site))}]`, 'bare array'],
    ]
    const [body, label] = pick(r, bodies)
    return { label: `POST /events: ${label}`, method: 'POST', path: '/events', headers: maybeContentType(r), body, expect: { kind: 'error', status: 400 } }
  }
  if (roll < 0.97) {
    const { body, label } = malformedBody(r)
    return { label: `POST /events: ${label}`, method: 'POST', path: '/events', headers: maybeContentType(r), body, expect: { kind: 'error', status: 400 } }
  }
  const method = pick(r, ['GET', 'PUT', 'DELETE'])
  return { label: `${method} /events`, method, path: '/events', headers: {}, expect: { kind: 'error', status: 404 } }
}

/** Percent-encoding of arbitrary text, sometimes left raw or broken on purpose. */
function queryValue(r: Random, value: string): string {
  const roll = r()
  if (roll < 0.8) return encodeURIComponent(value)
  if (roll < 0.9) return value.replace(/[#&\s]/g, '_')
  return pick(r, ['%', '%zz', '%FF', '%C0%AF', '%ED%A0%80', '%E0%A4%A', '%00', '%25%', '%%%'])
}

const qs = (params: [string, string][]) => params.map(([k, v]) => `${k}=${v}`).join('&')

function statsCase(r: Random, site: string): Omit<FuzzCase, 'id'> {
  const endpoint = pick(r, ['/stats', '/stats/timeseries', '/stats/realtime'])
  const params: [string, string][] = [['site_id', encodeURIComponent(site)]]
  if (endpoint === '/stats/timeseries') params.push(['from', '2025-11-01'], ['to', '2025-11-14'])
  if (endpoint === '/stats' && r() < 0.5) params.push(['date', '2025-11-14'])
  const roll = r()
  if (roll < 0.15) {
    // Weird but possibly valid: must not fail, may answer 200.
    const weird = pick(r, [
      () => params.push(['site_id', encodeURIComponent(site + '-2')]),
      () => (params[0]![1] = queryValue(r, site + pick(r, ['%', '💥', '\u202e', "'; drop table events; --", 'x']))),
      () => (params[0]![1] = pick(r, ['%', '%zz', '%FF', '%C0%AF', '%E0%A4%A', '%25%'])),
      () => (params[0]![1] = 'a'.repeat(1 + int(r, 6000))),
      () => params.push(['', '']),
    ])
    weird()
    const sep = pick(r, ['&', '&&', '&;'])
    return {
      label: `GET ${endpoint}: weird but possibly valid query`,
      method: 'GET',
      path: `${endpoint}?${params.map(([k, v]) => (k ? `${k}=${v}` : '')).join(sep)}`,
      headers: {},
      expect: { kind: 'any-json' },
    }
  }
  const labels: string[] = []
  const count = 1 + int(r, 2)
  for (let i = 0; i < count; i++) {
    const m = int(r, endpoint === '/stats' ? 10 : endpoint === '/stats/timeseries' ? 10 : 4)
    const set = (key: string, value: string) => {
      const at = params.findIndex(([k]) => k === key)
      if (at >= 0) params[at]![1] = value
      else params.push([key, value])
    }
    const drop = (key: string) => {
      const at = params.findIndex(([k]) => k === key)
      if (at >= 0) params.splice(at, 1)
    }
    switch (m) {
      case 0:
        drop('site_id')
        labels.push('no site_id')
        break
      case 1:
        set('site_id', '')
        labels.push('empty site_id')
        break
      case 2: {
        const key = pick(r, [
          '__proto__',
          'constructor',
          'prototype',
          '__proto__[polluted]',
          'constructor[prototype][polluted]',
          'foo',
          'siteId',
          'site_id[]',
          'date[]',
          'toString',
          'SITE_ID',
        ])
        params.push([encodeURIComponent(key).replace(/%5B/g, '[').replace(/%5D/g, ']'), queryValue(r, pick(r, ['1', 'true', 'x', '{"a":1}']))])
        labels.push(`unknown parameter ${key}`)
        break
      }
      case 3:
        if (endpoint === '/stats/realtime') {
          params.push([pick(r, ['date', 'from', 'tz', 'limit']), '2025-11-14'])
          labels.push('parameter realtime does not take')
        } else {
          set('tz', queryValue(r, pick(r, INVALID_ZONES)))
          labels.push('invalid tz')
        }
        break
      case 4:
        if (endpoint === '/stats') {
          drop('from')
          drop('to')
          set('date', queryValue(r, pick(r, INVALID_DATES)))
        } else {
          set(pick(r, ['from', 'to']), queryValue(r, pick(r, INVALID_DATES)))
        }
        labels.push('impossible date')
        break
      case 5:
        if (endpoint === '/stats') {
          set('from', '2025-11-14')
          drop('to')
          labels.push('from without to')
        } else {
          set('from', '2025-11-20')
          set('to', '2025-11-10')
          labels.push('from after to')
        }
        break
      case 6:
        if (endpoint === '/stats') {
          drop('date')
          set('from', '2020-01-01')
          set('to', '2025-11-14')
          labels.push('range over 400 days')
        } else {
          set('interval', queryValue(r, pick(r, ['minute', 'year', 'HOUR', '', 'hour ', 'day;drop', '1'])))
          labels.push('invalid interval')
        }
        break
      case 7:
        if (endpoint === '/stats') {
          set('limit', queryValue(r, pick(r, INVALID_LIMITS)))
          labels.push('invalid limit')
        } else {
          set('interval', 'hour')
          set('from', '2025-01-01')
          set('to', '2025-12-31')
          labels.push('too many hourly buckets')
        }
        break
      case 8:
        if (endpoint === '/stats') {
          set('date', '2025-11-14')
          set('from', '2025-11-01')
          set('to', '2025-11-14')
          labels.push('date and from/to together')
        } else {
          drop(pick(r, ['from', 'to']))
          labels.push('missing from or to')
        }
        break
      case 9:
        if (endpoint === '/stats/timeseries') {
          set('format', queryValue(r, pick(r, ['xml', 'CSV', '', 'csv ', 'ndjson', 'json;', '1'])))
          labels.push('invalid format')
          break
        }
        set('date', '9999-99-99')
        drop('from')
        drop('to')
        labels.push('date 9999-99-99')
        break
      default:
        set('date', '9999-99-99')
        drop('from')
        drop('to')
        labels.push('date 9999-99-99')
    }
  }
  const method = r() < 0.97 ? 'GET' : pick(r, ['POST', 'PUT', 'DELETE'])
  if (method !== 'GET')
    return { label: `${method} ${endpoint}`, method, path: `${endpoint}?${qs(params)}`, headers: {}, body: '{}', expect: { kind: 'error', status: 404 } }
  return { label: `GET ${endpoint}: ${labels.join(', ')}`, method, path: `${endpoint}?${qs(params)}`, headers: {}, expect: { kind: 'error', status: 400 } }
}

function weirdQuery(r: Random): string {
  const parts = Array.from({ length: int(r, 6) }, () =>
    pick(r, [
      'a=1',
      '__proto__=x',
      'constructor[prototype][x]=1',
      '%',
      '%zz',
      '%FF=%FE',
      '=',
      '&',
      '==',
      '?',
      'x=' + 'y'.repeat(int(r, 4000)),
      'next=//evil.example',
      'site_id=' + encodeURIComponent('💥'),
      '[]=1',
      'a[b][c][d]=1',
    ]),
  )
  return parts.length ? `?${parts.join('&')}` : pick(r, ['', '?', '??', '?&'])
}

const badAuthHeaders = (r: Random): Record<string, string> =>
  pick<Record<string, string>>(r, [
    {},
    { authorization: 'Basic ###' },
    { authorization: `Basic ${btoa('admin:wrong')}` },
    { authorization: `Basic ${btoa('admin')}` },
    { authorization: `Basic ${btoa(':')}` },
    { authorization: 'Basic' },
    { authorization: 'Bearer x' },
    { authorization: 'Digest username="admin"' },
    { authorization: 'Basic ' + 'A'.repeat(4000) },
    { cookie: 'analytics_session=garbage' },
    { cookie: 'analytics_session=eyJ1c2VyIjoiYWRtaW4iLCJleHAiOjk5OTk5OTk5OTl9.forged' },
    { cookie: 'analytics_session=%' },
    { cookie: ';;;=;analytics_session' },
    { cookie: `analytics_session=${'.'.repeat(3000)}` },
  ])

function sitesCase(r: Random, adminHeaders: Record<string, string>): Omit<FuzzCase, 'id'> {
  const roll = r()
  if (roll < 0.15) {
    return { label: 'GET /sites: weird query', method: 'GET', path: `/sites${weirdQuery(r)}`, headers: {}, expect: { kind: 'any-json' } }
  }
  const id = pick(r, [
    () => encodeURIComponent(`${FUZZ_SITE_PREFIX}${int(r, 100)}`),
    () => 'a'.repeat(129 + int(r, 200)),
    // Not '..' or '%2e%2e': fetch resolves those dot segments before sending.
    () => pick(r, ['%', '%zz', '%FF', '%C0%AF', '%2F', '__proto__', 'constructor', encodeURIComponent('💥\u202e')]),
  ])()
  const timezoneBody = () =>
    pick(r, [
      () => `{"timezone":${JSON.stringify(pick(r, INVALID_ZONES))}}`,
      () => `{"timezone":${wrongValue(r)}}`,
      () => '{}',
      () => `{"timezone":"UTC","${pick(r, HOSTILE_KEYS).replace(/["\\\u0000]/g, '_')}":1}`,
      () => `{"timezone":"Europe/Paris","__proto__":{"polluted":true}}`,
      () => '{"timezone":""}',
      () => malformedBody(r).body,
      () => `{"timezone":"Europe/Paris"`,
    ])()
  if (roll < 0.45) {
    // Not signed in: refused before the body is read, whatever it is.
    return {
      label: 'PUT /sites/:id without valid credentials',
      method: 'PUT',
      path: `/sites/${id}`,
      headers: { ...badAuthHeaders(r), ...maybeContentType(r) },
      body: timezoneBody(),
      expect: { kind: 'error', status: 401 },
    }
  }
  if (roll < 0.8) {
    const body = timezoneBody()
    // Site settings are a few bytes: bodies over 4 KiB are refused as too large before parsing.
    const status = Buffer.byteLength(body) > 4_096 ? 413 : 400
    return {
      label: 'PUT /sites/:id as admin: invalid body',
      method: 'PUT',
      path: `/sites/${id}`,
      headers: { ...adminHeaders, ...maybeContentType(r) },
      body,
      expect: { kind: 'error', status },
    }
  }
  const signedIn = r() < 0.5
  if (roll < 0.88) {
    // Never a confirm equal to the id: nothing may be deleted.
    const confirm = pick(r, [
      '',
      '?confirm=',
      `?confirm=${FUZZ_SITE_PREFIX}x`,
      '?confirm=%00',
      `?confirm=${'c'.repeat(200)}`,
      '?Confirm=x',
      '?confirm[]=x',
      '?__proto__=x',
      `?confirm=${queryValue(r, "'; drop table events; --")}`,
    ])
    return {
      label: `DELETE /sites/:id without its id confirmed${signedIn ? ' as admin' : ''}`,
      method: 'DELETE',
      path: `/sites/${id}${confirm}`,
      headers: signedIn ? adminHeaders : badAuthHeaders(r),
      expect: { kind: 'error', status: signedIn ? 400 : 401 },
    }
  }
  if (roll < 0.96) {
    const query = pick(r, [
      () => `from=${queryValue(r, pick(r, INVALID_DATES))}&to=2025-11-14`,
      () => `from=2025-11-01&to=${queryValue(r, pick(r, INVALID_DATES))}`,
      () => `${pick(r, ['from', 'to'])}=2025-11-14`,
      () => 'from=2025-11-20&to=2025-11-10',
      () => `format=${queryValue(r, pick(r, ['json', 'xml', 'CSV', '', 'csv ', 'ndjson;', 'parquet']))}`,
      () => `${pick(r, ['date', 'tz', 'site_id', '__proto__', 'limit'])}=2025-11-14`,
    ])()
    return {
      label: `GET /sites/:id/export: invalid query${signedIn ? ' as admin' : ''}`,
      method: 'GET',
      path: `/sites/${id}/export?${query}`,
      headers: signedIn ? adminHeaders : badAuthHeaders(r),
      expect: { kind: 'error', status: signedIn ? 400 : 401 },
    }
  }
  const method = pick(r, ['POST', 'PATCH'])
  // There is no such route, for the admin or anyone else.
  return {
    label: `${method} /sites/:id${signedIn ? ' as admin' : ''}`,
    method,
    path: `/sites/${id}`,
    headers: signedIn ? adminHeaders : {},
    body: '{}',
    expect: { kind: 'error', status: 404 },
  }
}

/** What POST /login must answer for an urlencoded body: the form again (401), a 400, or 413 over its size limit. */
function loginExpectation(body: string): Expectation {
  if (Buffer.byteLength(body) > LOGIN_BODY_BYTES) return { kind: 'error', status: 413 }
  const form = new URLSearchParams(body)
  const keys = [...form.keys()]
  const known = new Set(['user', 'password', 'next'])
  const single = (key: string) => form.getAll(key).length === 1
  const ok = keys.every((key) => known.has(key)) && single('user') && single('password') && form.getAll('next').length <= 1
  return ok ? { kind: 'login-refused' } : { kind: 'error', status: 400 }
}

function loginCase(r: Random): Omit<FuzzCase, 'id'> {
  if (r() < 0.25) {
    // Only `next` is a known parameter: any other one is refused (400); `next` alone gets the form.
    const allowed = ['', 'next=/x', `next=${encodeURIComponent('//evil.example')}`, 'next=%', 'next=%FF', 'next', `next=${'n'.repeat(int(r, 3000))}`]
    const refused = ['a=1', '__proto__=x', '%', '%FF=%FE', '=', '==', '?', '[]=1', 'constructor[prototype][x]=1', 'NEXT=/x', 'next[]=/x']
    const parts = [pick(r, allowed)]
    const bad = r() < 0.5
    if (bad) parts.splice(int(r, 2), 0, pick(r, refused))
    return {
      label: `GET /login: ${bad ? 'unknown parameter' : 'odd next'}`,
      method: 'GET',
      path: `/login?${parts.join(pick(r, ['&', '&&']))}`,
      headers: {},
      expect: bad ? { kind: 'error', status: 400 } : { kind: 'login-form' },
    }
  }
  const field = () =>
    pick(r, ['', 'admin', 'x'.repeat(int(r, 3000)), '%', '%zz', '%FF', encodeURIComponent("' or 1=1 --"), encodeURIComponent('💥'), '+', 'a+b'])
  const parts: string[] = []
  if (r() < 0.85) parts.push(`user=${field()}`)
  if (r() < 0.85) parts.push(`password=${field()}`)
  if (r() < 0.3) parts.push(`next=${pick(r, ['//evil.example', '/\\evil', 'javascript:alert(1)', encodeURIComponent('/admin/queues'), '%'])}`)
  if (r() < 0.2) parts.push(pick(r, ['extra=1', '__proto__[x]=1', 'user=dup', 'constructor=1', 'password=dup']))
  const body = parts.join('&')
  const roll = r()
  if (roll < 0.7)
    return {
      label: 'POST /login: form with wrong or missing credentials',
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      expect: loginExpectation(body),
    }
  if (roll < 0.9) {
    const { body: junk, label } = malformedBody(r)
    return {
      label: `POST /login: ${label} as JSON`,
      method: 'POST',
      path: '/login',
      headers: { 'content-type': pick(r, ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) },
      body: junk,
      expect: loginExpectationFor(junk),
    }
  }
  const method = pick(r, ['PUT', 'DELETE', 'PATCH'])
  return { label: `${method} /login`, method, path: '/login', headers: {}, expect: { kind: 'error', status: 404 } }
}

/** Whatever the bytes, /login reads them as a form (replacing invalid UTF-8). */
function loginExpectationFor(body: string | Uint8Array<ArrayBuffer>): Expectation {
  if (typeof body !== 'string' && body.byteLength > LOGIN_BODY_BYTES) return { kind: 'error', status: 413 }
  return loginExpectation(typeof body === 'string' ? body : new TextDecoder().decode(body))
}

function staticCase(r: Random): Omit<FuzzCase, 'id'> {
  const roll = r()
  if (roll < 0.3) return { label: 'GET /health: weird query', method: 'GET', path: `/health${weirdQuery(r)}`, headers: {}, expect: { kind: 'health' } }
  if (roll < 0.55)
    return {
      label: 'GET /script.js: weird query',
      method: 'GET',
      path: `/script.js${weirdQuery(r)}`,
      headers: pick<Record<string, string>>(r, [{}, { 'accept-encoding': 'gzip;q=0' }, { 'accept-encoding': 'gzip' }, { 'accept-encoding': ';;;q=x' }]),
      expect: { kind: 'script' },
    }
  if (roll < 0.7) {
    const path = pick(r, ['/health', '/script.js'])
    const method = pick(r, ['POST', 'PUT', 'DELETE', 'PATCH'])
    return { label: `${method} ${path}`, method, path, headers: maybeContentType(r), body: malformedBody(r).body, expect: { kind: 'error', status: 404 } }
  }
  if (roll < 0.8)
    return {
      label: 'OPTIONS preflight on ingestion',
      method: 'OPTIONS',
      path: pick(r, ['/event', '/events']),
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      expect: { kind: 'preflight' },
    }
  const path = pick(r, [
    '/nope',
    '/event/x',
    '/events/1',
    '/stats/x',
    '/sites/a/b',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/script.js/x',
    '/health/x',
    '/.env',
    '/login/x',
    '/..%2f..%2f',
    `/${'z'.repeat(3000)}`,
  ])
  const method = pick(r, ['GET', 'POST'])
  return { label: `${method} unknown path ${path.slice(0, 30)}`, method, path, headers: {}, expect: { kind: 'error', status: 404 } }
}

/** `count` cases over every public endpoint, reproducible from `seed`. */
export function generateCases(seed: number, count: number, adminHeaders: Record<string, string>): FuzzCase[] {
  const r = prng(seed)
  const cases: FuzzCase[] = []
  for (let id = 0; id < count; id++) {
    const site = `${FUZZ_SITE_PREFIX}${id % 50}`
    const roll = r()
    const made =
      roll < 0.3
        ? eventCase(r, site)
        : roll < 0.45
          ? batchCase(r, site)
          : roll < 0.7
            ? statsCase(r, site)
            : roll < 0.8
              ? sitesCase(r, adminHeaders)
              : roll < 0.9
                ? loginCase(r)
                : staticCase(r)
    cases.push({ id, ...made })
  }
  // A few very large batches (over the 4 MiB limit), declared and streamed.
  const big = `{"events":[${JSON.stringify({ site_id: `${FUZZ_SITE_PREFIX}big`, event_type: 'page_view', path: `/${'b'.repeat(4 * 1024 * 1024)}`, timestamp: '2025-11-14T10:00:00Z' })}]}`
  cases.push({
    id: cases.length,
    label: 'POST /events: body over 4 MiB',
    method: 'POST',
    path: '/events',
    headers: {},
    body: big,
    expect: { kind: 'error', status: 413 },
  })
  cases.push({
    id: cases.length,
    label: 'POST /events: body over 4 MiB (chunked)',
    method: 'POST',
    path: '/events',
    headers: {},
    body: big,
    stream: true,
    expect: { kind: 'error', status: 413 },
  })
  return cases
}
