import { randomUUID } from 'node:crypto'
import type { RedisConnection } from '../lib/queue'
import type { Logger } from '../lib/log'
import { RateLimiter, type RateLimit } from './rate-limit'

/** How often each process brings what it took to Redis, and learns what the others took. */
export const RATE_SYNC_MS = 200

/**
 * One key's bucket in Redis, by Redis's own clock: refilled since its last change, less what the
 * caller took since its last sync; answers what is left (negative: a debt). One key per call, so
 * it runs on any Redis Cluster node.
 */
const SETTLE = `
local rate, burst, taken = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) / 1000 * rate) - taken
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return tostring(tokens)
`

/**
 * A RateLimiter whose buckets are kept in step across API processes. Each request is decided at
 * once from this process's bucket, as before; every RATE_SYNC_MS the process adds what it took
 * per key to that key's bucket in Redis and adopts what is left there, which every process's takes
 * have drawn on. So N processes together allow the rate, not N times it: at most each process's
 * takes of one sync period go over before the debt is waited off. Without Redis a process keeps
 * deciding alone (a Redis outage must not stop ingestion) and catches up once it answers.
 */
/** What the routes need of a limiter, in one process or shared. */
export type Limiter = Pick<RateLimiter, 'take' | 'spend' | 'wait' | 'untouched'>
/** Makes the limiter of one kind of budget (`name` keeps the kinds apart in Redis). */
export type LimiterOf = (limit: RateLimit, name: string) => Limiter

/**
 * Limiters kept in step across processes through Redis, under `keyPrefix:<name>:<key>`. The
 * processes also say every sync period that they are alive, so each starts a key it has not seen
 * with its share of the burst rather than the whole of it. `close` brings the limiters' last takes
 * to Redis and stops their syncing.
 */
export function sharedLimiters(redis: RedisConnection, keyPrefix: string, log?: Logger): { of: LimiterOf; beat(): Promise<void>; close(): Promise<void> } {
  const made: SharedRateLimiter[] = []
  const self = randomUUID()
  const alive = `${keyPrefix}:processes`
  let processes = 1
  const beat = async () => {
    const now = Date.now()
    const [, , count] = (await redis
      .multi()
      .zadd(alive, now, self)
      .zremrangebyscore(alive, 0, now - ALIVE_MS)
      .zcard(alive)
      .pexpire(alive, ALIVE_MS)
      .exec()
      .catch(() => null)) ?? [null, null, [null, processes]]
    processes = Math.max(1, Number(count?.[1] ?? processes))
  }
  const timer = setInterval(() => void beat(), RATE_SYNC_MS)
  timer.unref?.()
  void beat()
  return {
    /** Says now that this process is alive, and learns how many are (it does so every period anyway). */
    beat,
    of(limit, name) {
      const limiter = new SharedRateLimiter(limit, redis, `${keyPrefix}:${name}`, log, () => limit.burst / processes)
      made.push(limiter)
      return limiter
    },
    async close() {
      clearInterval(timer)
      for (const limiter of made) limiter.close()
      await Promise.all([...made.map((limiter) => limiter.sync()), redis.zrem(alive, self).catch(() => {})])
    },
  }
}

/** A process that has not said it is alive for this long is no longer counted. */
const ALIVE_MS = 5 * RATE_SYNC_MS

export class SharedRateLimiter {
  private readonly local: RateLimiter
  /** Tokens taken per key since the last sync. */
  private taken = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private syncing: Promise<void> | undefined
  /** Whether the last sync failed: an outage is logged once, not every period. */
  private failing = false

  constructor(
    private readonly limit: RateLimit,
    private readonly redis: RedisConnection,
    private readonly keyPrefix: string,
    private readonly log?: Logger,
    /** What a key this process has not seen starts with (default: the whole burst). */
    firstTokens?: () => number,
  ) {
    this.local = new RateLimiter(limit, Date.now, firstTokens)
    if (limit.rate > 0) {
      this.timer = setInterval(() => void this.sync(), RATE_SYNC_MS)
      this.timer.unref?.()
    }
  }

  get untouched(): boolean {
    return this.local.untouched
  }

  take(key: string, count: number): number {
    const wait = this.local.take(key, count)
    if (wait === 0 && this.limit.rate > 0) this.taken.set(key, (this.taken.get(key) ?? 0) + count)
    return wait
  }

  spend(key: string, count: number): void {
    this.local.spend(key, count)
    if (this.limit.rate > 0) this.taken.set(key, (this.taken.get(key) ?? 0) + count)
  }

  wait(key: string, count: number): number {
    return this.local.wait(key, count)
  }

  /** Brings this process's takes to Redis and adopts what is left there. */
  sync(): Promise<void> {
    this.syncing ??= this.settleAll().finally(() => (this.syncing = undefined))
    return this.syncing
  }

  private async settleAll(): Promise<void> {
    const batch = this.taken
    if (batch.size === 0) return
    this.taken = new Map()
    await Promise.all(
      [...batch].map(async ([key, count]) => {
        try {
          const left = Number(await this.redis.eval(SETTLE, 1, `${this.keyPrefix}:${key}`, this.limit.rate, this.limit.burst, count))
          // What was taken here while Redis answered is still to be brought next time.
          this.local.settle(key, left - (this.taken.get(key) ?? 0))
          this.failing = false
        } catch (error) {
          // Kept for the next sync: the takes are not lost while Redis is away.
          this.taken.set(key, (this.taken.get(key) ?? 0) + count)
          if (!this.failing) this.log?.warn('rate limit sync failed; deciding locally until Redis answers', { error: String(error) })
          this.failing = true
        }
      }),
    )
  }

  close(): void {
    clearInterval(this.timer)
  }
}
