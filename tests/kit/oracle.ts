/**
 * What oracle tests count with: a seeded random source, rounding as the README defines it, day
 * ranges in a zone, and visits recounted plainly from events by the definition.
 */

/** A seeded linear congruential generator: the same events on every run. */
export function seededRandom(seed: number) {
  let state = seed
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  return { random, pick }
}

/** Whole number nearest num / den, halves up, by integer remainder. */
export function halfUp(num: number, den: number): number {
  const whole = Math.floor(num / den)
  return (num - whole * den) * 2 >= den ? whole + 1 : whole
}

/** How far ahead of UTC the zone's clocks are at an instant, in milliseconds. */
function offsetAt(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at)
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value)
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) - at
}

/** The instant a calendar date begins in a zone (no zone used here changes its clocks at midnight). */
function midnight(date: string, tz: string): number {
  const utc = Date.parse(`${date}T00:00:00Z`)
  return utc - offsetAt(utc - offsetAt(utc, tz), tz)
}

export const nextDate = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)

/** [start, end) of the local dates from..to in a zone. */
export function rangeOf(from: string, to: string, tz: string): [number, number] {
  return [midnight(from, tz), midnight(nextDate(to), tz)]
}

/** What a visit recount needs of an event. */
export interface VisitEvent {
  visitor: string
  at: number
  eventId: string
}

/** A visitor's events with no gap of more than 30 minutes, in (time, event id) order. */
export interface RecountedVisit<E extends VisitEvent> {
  visitor: string
  start: number
  end: number
  events: E[]
}

/** The visits of some events, by the definition (a gap of exactly 30 minutes continues a visit). */
export function recountVisits<E extends VisitEvent>(events: E[]): RecountedVisit<E>[] {
  const visits: RecountedVisit<E>[] = []
  for (const list of Map.groupBy(events, (event) => event.visitor).values()) {
    list.sort((a, b) => a.at - b.at || (a.eventId < b.eventId ? -1 : 1))
    let current: E[] = []
    const close = () => {
      if (current.length > 0) visits.push({ visitor: current[0]!.visitor, start: current[0]!.at, end: current.at(-1)!.at, events: current })
      current = []
    }
    for (const event of list) {
      if (current.length > 0 && event.at - current.at(-1)!.at > 30 * 60_000) close()
      current.push(event)
    }
    close()
  }
  return visits
}

/** How a generated event set's visitors behave. */
export interface VisitorPlan {
  users: number
  /** Each user's first event falls in this many minutes after the start. */
  startMinutes: number
  /** Events per user: minEvents plus up to moreEvents - 1. */
  minEvents: number
  moreEvents: number
  /** Gaps between a user's events, drawn from these. */
  gapsMinutes: readonly number[]
  /** Anonymous events, each a visitor of its own, in this many minutes after the start. */
  anonymous: number
  anonymousMinutes: number
}

/** Calls `add` for every event of the plan: `user-0`… with their sequences, then the anonymous ones (user null). */
export function visitorEvents(rng: ReturnType<typeof seededRandom>, start: number, plan: VisitorPlan, add: (userId: string | null, at: number) => void): void {
  for (let u = 0; u < plan.users; u++) {
    let at = start + Math.floor(rng.random() * plan.startMinutes) * 60_000
    for (let n = plan.minEvents + Math.floor(rng.random() * plan.moreEvents); n > 0; n--) {
      add(`user-${u}`, at)
      at += rng.pick(plan.gapsMinutes) * 60_000
    }
  }
  for (let i = 0; i < plan.anonymous; i++) add(null, start + Math.floor(rng.random() * plan.anonymousMinutes) * 60_000)
}
