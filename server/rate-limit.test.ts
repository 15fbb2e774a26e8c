import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startStack, type Stack } from '../tests/support'
import { NO_RATE_LIMITS } from './ingest/routes'
import { RateLimiter } from './rate-limit'

test('a bucket allows its burst, then the rate, and says how long to wait', () => {
  let now = 0
  const limiter = new RateLimiter({ rate: 10, burst: 20 }, () => now)
  expect(limiter.take('ip', 20)).toBe(0)
  expect(limiter.take('ip', 1)).toBe(1)
  now += 500 // five tokens back
  expect(limiter.take('ip', 5)).toBe(0)
  expect(limiter.take('ip', 15)).toBe(2)
  expect(limiter.take('other', 20)).toBe(0) // keys are independent
})

test('rate 0 turns the limit off', () => {
  const limiter = new RateLimiter({ rate: 0, burst: 0 })
  expect(limiter.take('ip', 1_000_000)).toBe(0)
})

describe('over HTTP', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack('ratelimit', {
      rateLimits: { ...NO_RATE_LIMITS, perIp: { rate: 1, burst: 12 }, perSite: { rate: 1, burst: 5 } },
      proxy: { trustProxy: true, hops: 1 },
    })
  })
  afterAll(() => stack.close())

  const event = (site: string) => ({ site_id: site, event_type: 'page_view', path: '/', timestamp: '2025-11-14T10:00:00Z' })
  const from = (ip: string) => ({ 'content-type': 'application/json', 'x-forwarded-for': ip })

  test('a site over its rate gets 429 with Retry-After; other sites are unaffected', async () => {
    expect((await stack.post('/events', { events: Array.from({ length: 6 }, () => event('busy')) }, from('10.0.0.1'))).status).toBe(429)
    const ok = await stack.post('/events', { events: Array.from({ length: 5 }, () => event('calm')) }, from('10.0.0.1'))
    expect(ok.status).toBe(202)
    const refused = await stack.post('/event', event('calm'), from('10.0.0.2'))
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused.json()).toEqual({ error: 'Too many events; slow down and retry later', retryAfterSeconds: 1 })
  })

  test('a client over its rate gets 429, counted in the ledger as rate limited', async () => {
    const statuses: number[] = []
    // A burst of 12, refilled at one per second: the 13th event, a moment later, is too many.
    for (let i = 0; i < 12; i++) statuses.push((await stack.post('/event', event(`s${i}`), from('10.0.0.9'))).status)
    expect(statuses).toEqual(Array(12).fill(202))
    // A site with an accepted event, so its refusals are counted under its own id.
    expect((await stack.post('/event', event('s0'), from('10.0.0.9'))).status).toBe(429)
    await stack.flush()
    const ledger = (await (await stack.get('/ingest/ledger?site_id=s0', stack.adminHeaders)).json()) as {
      sites: { refused_by_reason: { reason: string; count: number }[] }[]
    }
    expect(ledger.sites[0]!.refused_by_reason).toEqual([{ reason: 'rate limited', count: 1 }])
  })
})
