import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { BadRequestError } from '../errors'
import { MAX_OTHER_ZONE_DAYS, MAX_RANGE_DAYS } from '../../lib/range-limits'
import { getSiteZones, type Interval, type Question, type SiteDays } from './buckets'

/** The most days of hourly buckets (ranges: MAX_RANGE_DAYS). */
export const MAX_HOUR_BUCKETS_DAYS = 31

const DAY_MS = 86_400_000

/** Today's date in `tz`, as YYYY-MM-DD. */
export function todayIn(tz: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1
}

export type ZoneCheck = (tz: string) => Promise<void>

/** Timezone names Postgres knows (it does the bucketing), read once per process. */
export function createZoneCheck(db: Db): ZoneCheck {
  let zones: Promise<Set<string>> | undefined
  return async (tz: string): Promise<void> => {
    zones ??= db
      .execute<{ name: string }>(sql`select name from pg_timezone_names`)
      .then((rows) => new Set(rows.map((row) => row.name)))
      .catch((error) => {
        zones = undefined // try again on the next request
        throw error
      })
    if (!(await zones).has(tz)) throw new BadRequestError(`tz must be an IANA timezone name such as Europe/Paris; "${tz}" is not one`)
  }
}

export interface RangeParams {
  site_id: string
  date?: string
  from?: string
  to?: string
  tz?: string
}

/** The checks every range question gets, before any zone is known. */
export function checkRange(params: Omit<RangeParams, 'site_id'>): void {
  if (params.date !== undefined && (params.from !== undefined || params.to !== undefined)) {
    throw new BadRequestError('use either date or from and to, not both')
  }
  if ((params.from === undefined) !== (params.to === undefined)) throw new BadRequestError('from and to must be given together')
}

export function checkOrder(from: string, to: string): void {
  if (from > to) throw new BadRequestError('from must not be after to')
}

function checkDays(from: string, to: string, interval: Interval | null): void {
  checkOrder(from, to)
  const days = daysBetween(from, to)
  const maxDays = interval === 'hour' ? MAX_HOUR_BUCKETS_DAYS : MAX_RANGE_DAYS
  if (days > maxDays) throw new BadRequestError(`the range must be at most ${maxDays} days${interval === 'hour' ? ' for hourly buckets' : ''}; it is ${days}`)
}

/**
 * The common question, whole days in the site's own zone: dates given and no `tz`. Its answer
 * needs no zone first (the rollups are kept in that zone), so it costs no lookup; null for any
 * other question.
 */
export function siteDaysOf(params: RangeParams): SiteDays | null {
  checkRange(params)
  const from = params.from ?? params.date
  if (params.tz !== undefined || from === undefined) return null
  const to = params.to ?? from
  checkDays(from, to, null)
  return { siteId: params.site_id, from, to }
}

/**
 * Turns query parameters into a question: the range (date, or from and to), the asker's zone
 * (default: the site's), checked and bounded.
 */
export async function resolveQuestion(db: Db, checkZone: ZoneCheck, params: RangeParams, interval: Interval | null = null): Promise<Question> {
  checkRange(params)
  if (params.tz !== undefined) await checkZone(params.tz)
  const zones = await getSiteZones(db, params.site_id)
  const tz = params.tz ?? zones.rollupTimezone
  const from = params.from ?? params.date ?? todayIn(tz)
  const to = params.to ?? from
  checkDays(from, to, interval)
  const days = daysBetween(from, to)
  if (interval !== null && tz !== zones.rollupTimezone && days > MAX_OTHER_ZONE_DAYS) {
    throw new BadRequestError(
      `a timeseries in a timezone other than the site's (${zones.rollupTimezone}) may span at most ${MAX_OTHER_ZONE_DAYS} days; it is ${days}. ` +
        `Ask in ${zones.rollupTimezone}, or set the site's timezone (PUT /sites/:id).`,
    )
  }
  return { siteId: params.site_id, from, to, tz, rollupTz: zones.rollupTimezone }
}
