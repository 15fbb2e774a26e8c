/**
 * Calendar dates (YYYY-MM-DD) as the API takes them: local dates in the chosen time zone. They
 * are added and compared as UTC midnights, which have no DST gaps.
 */

export const PRESETS = ['today', 'yesterday', '7d', '30d'] as const
export type Preset = (typeof PRESETS)[number]

export const PRESET_LABELS: Record<Preset, string> = { today: 'Today', yesterday: 'Yesterday', '7d': 'Last 7 days', '30d': 'Last 30 days' }

/** What the person chose: a preset moves with the clock, a custom range does not. */
export type RangeChoice = { preset: Preset } | { preset: 'custom'; from: string; to: string }

export interface DateRange {
  from: string
  to: string
}

const DAY_MS = 86_400_000
const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/

/** True for a real calendar date in YYYY-MM-DD form (not 2025-02-30). */
export function isCalendarDate(value: string): boolean {
  const time = Date.parse(`${value}T00:00:00Z`)
  // An impossible date parses to NaN (2025-13-01) or rolls over (2025-02-30 may become 2 March).
  return CALENDAR_DATE.test(value) && !Number.isNaN(time) && new Date(time).toISOString().startsWith(value)
}

/** True when the browser knows the IANA zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name })
    return true
  } catch {
    return false
  }
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** Days in a range, both ends included. */
export function dayCount(range: DateRange): number {
  return Math.round((Date.parse(`${range.to}T00:00:00Z`) - Date.parse(`${range.from}T00:00:00Z`)) / DAY_MS) + 1
}

/** The local date in `timeZone` at instant `now`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value
  return `${part('year')}-${part('month')}-${part('day')}`
}

export function resolveRange(choice: RangeChoice, timeZone: string, now: Date = new Date()): DateRange {
  if (choice.preset === 'custom') return { from: choice.from, to: choice.to }
  const today = todayIn(timeZone, now)
  switch (choice.preset) {
    case 'today':
      return { from: today, to: today }
    case 'yesterday':
      return { from: addDays(today, -1), to: addDays(today, -1) }
    case '7d':
      return { from: addDays(today, -6), to: today }
    case '30d':
      return { from: addDays(today, -29), to: today }
  }
}

/** The range of equal length that ends the day before `range` starts. */
export function previousPeriod(range: DateRange): DateRange {
  const to = addDays(range.from, -1)
  return { from: addDays(to, 1 - dayCount(range)), to }
}

/** The wall-clock hour (0 to 23) in `timeZone` at instant `now`. */
export function hourIn(timeZone: string, now: Date): number {
  return Number(new Intl.DateTimeFormat('en', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(now))
}

/** "14:35": the wall-clock time in `timeZone` at instant `now`. */
export function timeIn(timeZone: string, now: Date): string {
  return new Intl.DateTimeFormat('en', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(now)
}

/** The part of the previous period that has gone as far as a range under way. */
export interface ElapsedPart {
  /** The wall-clock time the range has run until ("14:35"). */
  until: string
  /** The previous period's whole days before `day`; null when the range began today. */
  fullDays: DateRange | null
  /** The previous period's day that corresponds to today. */
  day: string
  /** The last hour of `day` counted (the current hour, counted whole: the API counts parts of days by the hour). */
  throughHour: number
}

/** For a range that `now` falls in, the part of the previous period as far gone; null otherwise (the whole previous period compares). */
export function elapsedPart(range: DateRange, timeZone: string, now: Date): ElapsedPart | null {
  const today = todayIn(timeZone, now)
  if (today < range.from || today > range.to) return null
  const previous = previousPeriod(range)
  const day = addDays(previous.from, dayCount({ from: range.from, to: today }) - 1)
  const fullDays = day > previous.from ? { from: previous.from, to: addDays(day, -1) } : null
  return { until: timeIn(timeZone, now), fullDays, day, throughHour: hourIn(timeZone, now) }
}

/** Hours make a readable chart for a day or two; beyond that there are too many points. */
export function intervalFor(range: DateRange): 'hour' | 'day' {
  return dayCount(range) <= 2 ? 'hour' : 'day'
}

/** "the day before", "in the previous 7 days": how the headline names the period it compares with. */
export function previousPeriodLabel(range: DateRange): string {
  const days = dayCount(range)
  return days === 1 ? 'the day before' : `in the previous ${days} days`
}

/** "14 Nov 2025" or "8 – 14 Nov 2025": a range for people. */
export function formatRange(range: DateRange): string {
  const format = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
  const from = new Date(`${range.from}T00:00:00Z`)
  return range.from === range.to ? format.format(from) : format.formatRange(from, new Date(`${range.to}T00:00:00Z`))
}
