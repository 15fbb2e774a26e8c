import { afterAll, expect, test } from 'bun:test'
import IORedis from 'ioredis'
import { uniqueName } from '../tests/kit/fixtures'
import { testEnv } from '../tests/support'
import { RATE_SYNC_MS, SharedRateLimiter, sharedLimiters } from './shared-rate-limit'
import { RateLimiter } from './rate-limit'

const redis = new IORedis(testEnv.redis.url)
const prefix = uniqueName('rate')
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

/** Two processes' limiters asking for one token every `everyMs` for `ms`; how many each was given. */
async function hammer(limiters: { take(key: string, count: number): number }[], ms: number, everyMs = 2): Promise<number[]> {
  const given = limiters.map(() => 0)
  const end = performance.now() + ms
  while (performance.now() < end) {
    limiters.forEach((limiter, i) => {
      if (limiter.take('203.0.113.7', 1) === 0) given[i]!++
    })
    await Bun.sleep(everyMs)
  }
  return given
}

test('two processes together allow the rate and burst once, not twice', async () => {
  const limit = { rate: 50, burst: 10 }
  const seconds = 2
  const shared = [0, 1].map(() => new SharedRateLimiter(limit, redis, `${prefix}:a`))
  const alone = [0, 1].map(() => new RateLimiter(limit))
  const [sharedGiven, aloneGiven] = await Promise.all([hammer(shared, seconds * 1000), hammer(alone, seconds * 1000)])
  shared.forEach((limiter) => limiter.close())
  const once = limit.burst + limit.rate * seconds // what one process alone allows: 110
  const total = (given: number[]) => given[0]! + given[1]!
  // Each process alone allows it all: together, twice.
  expect(total(aloneGiven)).toBeGreaterThanOrEqual(2 * once - 10)
  // Shared: once, plus at most each process's first burst and one sync period's takes before the debt shows.
  expect(total(sharedGiven)).toBeGreaterThanOrEqual(once - 15)
  expect(total(sharedGiven)).toBeLessThanOrEqual(once + limit.burst + 2 * Math.ceil((limit.rate * RATE_SYNC_MS) / 1000) + 5)
  // Both were served: neither process kept the budget to itself.
  expect(Math.min(...sharedGiven)).toBeGreaterThan(once / 4)
})

test('without Redis a process decides alone, and its takes wait for Redis to answer', async () => {
  const gone = new IORedis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  const limiter = new SharedRateLimiter({ rate: 1, burst: 3 }, gone, `${prefix}:b`)
  expect([1, 2, 3, 4].map(() => limiter.take('k', 1))).toEqual([0, 0, 0, 1])
  await limiter.sync() // fails quietly: the three takes are kept for the next sync
  const back = new SharedRateLimiter({ rate: 1, burst: 3 }, redis, `${prefix}:b`)
  // Another process that reaches Redis sees none of them yet, so it is not held back by an outage elsewhere.
  expect(back.take('k', 3)).toBe(0)
  limiter.close()
  back.close()
  gone.disconnect()
})

test('a process that knows of another starts a new key with its share of the burst', async () => {
  const keyPrefix = `${prefix}:c`
  const processes = [sharedLimiters(redis, keyPrefix), sharedLimiters(redis, keyPrefix)]
  const limit = { rate: 1, burst: 10 }
  const limiters = processes.map((p) => p.of(limit, 'site'))
  // Each says it is alive; the first learns of the second on its next beat.
  for (const p of [...processes, processes[0]!]) await p.beat()
  const given = limiters.map((limiter) => [...Array(10)].filter(() => limiter.take('new-site', 1) === 0).length)
  expect(given).toEqual([5, 5])
  await Promise.all(processes.map((p) => p.close()))
})
