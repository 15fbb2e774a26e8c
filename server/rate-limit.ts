/**
 * Token buckets per key (client IP, site): `rate` events per second with bursts up to `burst`.
 * In memory, per API process; SharedRateLimiter (shared-rate-limit.ts) keeps them in step across
 * processes through Redis.
 */
export interface RateLimit {
  /** Events per second; 0 turns the limit off. */
  rate: number
  burst: number
}

interface Bucket {
  tokens: number
  at: number
}

// Buckets idle long enough to be full again carry no information and are dropped.
const MAX_KEYS = 100_000

export class RateLimiter {
  private buckets = new Map<string, Bucket>()

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    /** What a key never seen before starts with: the whole burst, unless shared (see SharedRateLimiter). */
    private readonly firstTokens: () => number = () => limit.burst,
  ) {}

  /** No key has used any tokens yet (or all were forgotten): every key may take its burst. */
  get untouched(): boolean {
    return this.buckets.size === 0
  }

  /** Takes `count` tokens for `key`; returns 0 when allowed, else the seconds to wait. */
  take(key: string, count: number): number {
    if (this.limit.rate <= 0) return 0
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: this.firstTokens(), at: now }
    bucket.tokens = this.tokensAt(bucket, now)
    bucket.at = now
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= MAX_KEYS) this.prune(now)
      this.buckets.set(key, bucket)
    }
    if (bucket.tokens >= count) {
      bucket.tokens -= count
      return 0
    }
    return this.secondsUntil(bucket.tokens, count)
  }

  /** Takes `count` tokens for `key` even when fewer are left, for costs known only afterwards: the debt is waited off. */
  spend(key: string, count: number): void {
    if (this.limit.rate <= 0) return
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: this.firstTokens(), at: now }
    bucket.tokens = this.tokensAt(bucket, now) - count
    bucket.at = now
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= MAX_KEYS) this.prune(now)
      this.buckets.set(key, bucket)
    }
  }

  /** Sets what `key` has left, as another process's account says (negative: a debt to wait off). */
  settle(key: string, tokens: number): void {
    if (this.limit.rate <= 0) return
    const now = this.now()
    if (!this.buckets.has(key) && this.buckets.size >= MAX_KEYS) this.prune(now)
    this.buckets.set(key, { tokens: Math.min(this.limit.burst, tokens), at: now })
  }

  /** The seconds to wait before `count` tokens could be taken for `key` (0: now), taking none. */
  wait(key: string, count: number): number {
    if (this.limit.rate <= 0) return 0
    const bucket = this.buckets.get(key)
    const tokens = bucket ? this.tokensAt(bucket, this.now()) : this.firstTokens()
    return tokens >= count ? 0 : this.secondsUntil(tokens, count)
  }

  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.rate)
  }

  private secondsUntil(tokens: number, count: number): number {
    return Math.max(1, Math.ceil((count - tokens) / this.limit.rate))
  }

  private prune(now: number) {
    const refill = (this.limit.burst / this.limit.rate) * 1000
    for (const [key, bucket] of this.buckets) if (now - bucket.at >= refill) this.buckets.delete(key)
    // Still full of active keys: forget the oldest half rather than grow without bound.
    if (this.buckets.size >= MAX_KEYS) [...this.buckets.keys()].slice(0, MAX_KEYS / 2).forEach((key) => this.buckets.delete(key))
  }
}
