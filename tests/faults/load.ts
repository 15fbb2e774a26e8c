/**
 * A steady, bounded load of POST /event requests for the fault tests.
 *
 * Events leave at a fixed rate, each with its own event_id. An event counts as acknowledged only
 * when the API answered 202 naming that event_id. Anything else that is worth retrying (network
 * error, connection reset or refused, timeout, 503, other 5xx) is retried with the SAME event_id
 * (the API's idempotency key) after a short pause, until acknowledged or until the event's own
 * deadline passes. A 4xx other than 408/429 is a bug in the generator or the API and is recorded,
 * not retried. Loopback only, bounded in events, in time and in requests in flight.
 */

export interface LoadOptions {
  /** Base URL of the API, read at every attempt (so a restarted API may move). */
  baseUrl: string | (() => string)
  siteId: string
  /** Events per second (default 250). */
  ratePerSecond?: number
  /** Most events this load will ever generate (default 20,000). */
  maxEvents?: number
  /** Generation stops by itself after this long (default 60 s). */
  maxDurationMs?: number
  /** An event is given up this long after its first attempt (default 30 s). */
  eventDeadlineMs?: number
  /** One attempt is abandoned (and retried) after this long (default 5 s). */
  attemptTimeoutMs?: number
  /** Most events being sent or retried at once; generation waits beyond it (default 200). */
  maxInFlight?: number
  /** Seed of the generator of users, paths, types and timestamps. */
  seed?: number
  /** Prefix of the event ids (default: the site id). */
  idPrefix?: string
}

export interface Attempt {
  at: number
  /** HTTP status as a string, or `network:<code>` / `timeout`. */
  outcome: string
  ms: number
}

export interface LoadResult {
  /** Every event id answered 202. */
  acknowledged: Set<string>
  /** Every event id generated (acknowledged or not). */
  sent: Set<string>
  /** Event ids never acknowledged before their deadline (or refused with a 4xx). */
  unacknowledged: string[]
  attempts: number
  retries: number
  /** Count of each attempt outcome: '202', '503', 'network:ECONNREFUSED', 'timeout', ... */
  outcomes: Record<string, number>
  /** 4xx answers (a bug either side), with their body. */
  refusals: { eventId: string; status: number; body: string }[]
  durationMs: number
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PATHS = ['/', '/home', '/pricing', '/docs', '/docs/install', '/blog', '/blog/one', '/about', '/contact', '/signup', '/login', '/cart']
const DAYS = ['2025-11-10', '2025-11-11', '2025-11-12', '2025-11-13', '2025-11-14']

export class LoadGenerator {
  private readonly options: Required<LoadOptions>
  private readonly random: () => number
  private readonly acknowledged = new Set<string>()
  private readonly sent = new Set<string>()
  private readonly unacknowledged: string[] = []
  private readonly refusals: LoadResult['refusals'] = []
  private readonly outcomes: Record<string, number> = {}
  private readonly inFlight = new Set<Promise<void>>()
  private readonly ackWaiters: { count: number; resolve(): void }[] = []
  readonly attemptLog: Attempt[] = []
  private attempts = 0
  private retries = 0
  private generated = 0
  private startedAt = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private stopping = false
  private readonly abort = new AbortController()

  constructor(options: LoadOptions) {
    this.options = {
      ratePerSecond: 250,
      maxEvents: 20_000,
      maxDurationMs: 60_000,
      eventDeadlineMs: 30_000,
      attemptTimeoutMs: 5_000,
      maxInFlight: 200,
      seed: 1,
      idPrefix: options.siteId,
      ...options,
    }
    this.random = prng(this.options.seed)
  }

  get acknowledgedCount(): number {
    return this.acknowledged.size
  }

  start(): void {
    this.startedAt = performance.now()
    this.timer = setInterval(() => this.tick(), 10)
  }

  /** Resolves once at least `count` events have been acknowledged in all (bounded by `ms`). */
  waitForAcknowledged(count: number, ms: number): Promise<void> {
    if (this.acknowledged.size >= count) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiters.splice(this.ackWaiters.indexOf(waiter), 1)
        reject(new Error(`only ${this.acknowledged.size} of ${count} events acknowledged after ${ms} ms; outcomes ${JSON.stringify(this.outcomes)}`))
      }, ms)
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      }
      this.ackWaiters.push(waiter)
    })
  }

  /** Waits for `more` acknowledgements beyond those already counted. */
  waitForMore(more: number, ms: number): Promise<void> {
    return this.waitForAcknowledged(this.acknowledged.size + more, ms)
  }

  /**
   * Stops generating, lets events in flight settle (acknowledged or past their deadline), and
   * returns the result. `abandonAfterMs` bounds that wait; events still unsettled are aborted.
   */
  async stop(abandonAfterMs = this.options.eventDeadlineMs + this.options.attemptTimeoutMs): Promise<LoadResult> {
    this.stopping = true
    clearInterval(this.timer)
    const settled = Promise.all([...this.inFlight])
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, abandonAfterMs)))])
    clearTimeout(timer)
    this.abort.abort()
    await Promise.all([...this.inFlight])
    return {
      acknowledged: new Set(this.acknowledged),
      sent: new Set(this.sent),
      unacknowledged: [...this.unacknowledged],
      attempts: this.attempts,
      retries: this.retries,
      outcomes: { ...this.outcomes },
      refusals: [...this.refusals],
      durationMs: Math.round(performance.now() - this.startedAt),
    }
  }

  private tick(): void {
    if (this.stopping) return
    const elapsed = performance.now() - this.startedAt
    if (elapsed > this.options.maxDurationMs || this.generated >= this.options.maxEvents) {
      clearInterval(this.timer)
      return
    }
    const due = Math.min(Math.floor((elapsed * this.options.ratePerSecond) / 1000), this.options.maxEvents)
    while (this.generated < due && this.inFlight.size < this.options.maxInFlight) {
      const task = this.send(this.makeEvent(this.generated++))
      this.inFlight.add(task)
      void task.finally(() => this.inFlight.delete(task))
    }
  }

  private makeEvent(seq: number): Record<string, unknown> {
    const r = this.random
    const day = DAYS[Math.floor(r() * DAYS.length)]!
    const hh = String(Math.floor(r() * 24)).padStart(2, '0')
    const mm = String(Math.floor(r() * 60)).padStart(2, '0')
    const ss = String(Math.floor(r() * 60)).padStart(2, '0')
    const userRoll = r()
    const event: Record<string, unknown> = {
      site_id: this.options.siteId,
      event_type: r() < 0.8 ? 'page_view' : 'click',
      path: PATHS[Math.floor(r() * PATHS.length)],
      timestamp: `${day}T${hh}:${mm}:${ss}Z`,
      event_id: `${this.options.idPrefix}-${seq}`,
    }
    if (userRoll < 0.1) event.user_id = null
    else if (userRoll < 0.9) event.user_id = `user-${Math.floor(r() * 60)}`
    return event
  }

  private count(outcome: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1
  }

  private async send(event: Record<string, unknown>): Promise<void> {
    const eventId = event.event_id as string
    this.sent.add(eventId)
    const body = JSON.stringify(event)
    const deadline = performance.now() + this.options.eventDeadlineMs
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.retries++
      this.attempts++
      const began = performance.now()
      let outcome: string
      let retryable = true
      try {
        const base = typeof this.options.baseUrl === 'string' ? this.options.baseUrl : this.options.baseUrl()
        const response = await fetch(`${base}/event`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(this.options.attemptTimeoutMs), this.abort.signal]),
        })
        const text = await response.text()
        outcome = String(response.status)
        if (response.status === 202) {
          const answer = JSON.parse(text) as { eventId?: string }
          if (answer.eventId !== eventId) throw new Error(`202 for ${eventId} named ${answer.eventId}`)
          this.count(outcome)
          this.attemptLog.push({ at: began, outcome, ms: performance.now() - began })
          this.acknowledged.add(eventId)
          for (const waiter of this.ackWaiters.filter((w) => this.acknowledged.size >= w.count)) {
            this.ackWaiters.splice(this.ackWaiters.indexOf(waiter), 1)
            waiter.resolve()
          }
          return
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          retryable = false
          this.refusals.push({ eventId, status: response.status, body: text.slice(0, 500) })
        }
      } catch (error) {
        const e = error as { name?: string; code?: string }
        outcome = e.name === 'TimeoutError' ? 'timeout' : e.name === 'AbortError' ? 'aborted' : `network:${e.code ?? e.name ?? 'error'}`
      }
      this.count(outcome)
      this.attemptLog.push({ at: began, outcome, ms: performance.now() - began })
      if (!retryable || this.abort.signal.aborted || performance.now() > deadline) {
        this.unacknowledged.push(eventId)
        return
      }
      // Short, jittered pause: a crashed API is back within seconds; Retry-After (5 s) is too coarse here.
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150))
    }
  }
}
