import { sql, type SQL } from 'drizzle-orm'
import { prepared, type Db } from '../../drizzle/client'
import { rollupDays, rollupHours, sites, userDayBit, userHourBit, userMonths } from '../../drizzle/schema'
import { BadRequestError } from '../errors'

/*
 * Every answer here is read from the rollups the worker keeps (never from raw events). A question
 * is a set of buckets [start, end) in the asker's timezone; each is answered from the whole days
 * of the rollup timezone it contains plus the rollup hours at its edges. That is exact when every
 * bucket boundary is the start of a rollup hour, which holds for the site's own zone and for any
 * zone whose offset differs from it by whole hours; other questions are refused (see
 * InexactTimezoneError).
 */

export type Interval = 'hour' | 'day' | 'week' | 'month'

/** The question cannot be answered exactly from rollups bucketed in the site's zone. */
export class InexactTimezoneError extends BadRequestError {
  override name = 'InexactTimezoneError'
}

export interface SiteZones {
  /** The zone answers default to: the zone the rollups are bucketed in. */
  rollupTimezone: string
  timezone: string
}

/** A site's zones; sites with no events yet are UTC. */
export async function getSiteZones(db: Db, siteId: string): Promise<SiteZones> {
  const [row] = await prepared<{ timezone: string; rollup_timezone: string }>(db, sql`select timezone, rollup_timezone from ${sites} where site_id = ${siteId}`)
  return row ? { timezone: row.timezone, rollupTimezone: row.rollup_timezone } : { timezone: 'UTC', rollupTimezone: 'UTC' }
}

/** Whole days of the site's own (rollup) zone: inclusive calendar dates. */
export interface SiteDays {
  siteId: string
  from: string
  to: string
}

/** A question in any zone; `from` and `to` are inclusive calendar dates in `tz`. */
export interface Question extends SiteDays {
  /** The asker's timezone (IANA). */
  tz: string
  /** The site's rollup timezone. */
  rollupTz: string
}

const INTERVAL_STEP: Record<Interval, string> = { hour: '1 hour', day: '1 day', week: '1 week', month: '1 month' }

/**
 * Buckets as (idx, b0, b1): the whole range for `null`, else one per interval. Day, week and
 * month buckets start at local midnight in `tz` (weeks on Mondays); hour buckets every hour.
 */
/** The instants the question's range starts and ends at: local midnights of `from` and of the day after `to`. */
export const rangeBounds = (q: Question): [start: SQL, end: SQL] => [
  sql`(${q.from}::date::timestamp at time zone ${q.tz})`,
  sql`((${q.to}::date + 1)::timestamp at time zone ${q.tz})`,
]

export function bucketsOf(q: Question, interval: Interval | null): SQL {
  const [start, end] = rangeBounds(q)
  if (interval === null) return sql`select 0 as idx, ${start} as b0, ${end} as b1`
  if (interval === 'hour') {
    return sql`select (row_number() over (order by h) - 1)::int as idx, h as b0, h + interval '1 hour' as b1
                 from generate_series(${start}, ${end} - interval '1 hour', interval '1 hour') h`
  }
  // Local dates first, then their instants, so DST days are 23 or 25 hours long.
  const first = interval === 'day' ? sql`${q.from}::date` : sql`date_trunc(${interval}, ${q.from}::date)::date`
  return sql`select (row_number() over (order by d) - 1)::int as idx,
                    greatest(d::timestamp at time zone ${q.tz}, ${start}) as b0,
                    least((d + ${INTERVAL_STEP[interval]}::interval)::timestamp at time zone ${q.tz}, ${end}) as b1
               from generate_series(${first}::timestamp, ${q.to}::date::timestamp, ${INTERVAL_STEP[interval]}::interval) d`
}

/**
 * CTEs shared by every question: `buckets`, and `hm` with one row per rollup hour of each bucket:
 * its rollup day and month, its positions in the user bitmaps, and whether its whole rollup day
 * lies inside the bucket (then the day's rollup row answers for it).
 */
export function plan(q: Question, interval: Interval | null): SQL {
  const rt = q.rollupTz
  return sql`
    buckets as (${bucketsOf(q, interval)}),
    hours as (
      select b.idx, h from buckets b, generate_series(b.b0, b.b1 - interval '1 hour', interval '1 hour') h
    ),
    hm as (
      select idx, h,
             (h at time zone ${rt})::date as day,
             (date_trunc('month', h, ${rt}) at time zone ${rt})::date as month,
             (extract(epoch from h - date_trunc('month', h, ${rt})) / 3600)::int as hour_index,
             extract(day from h at time zone ${rt})::int - 1 as day_index,
             ((h at time zone ${rt})::date::timestamp at time zone ${rt}) >= b0
               and (((h at time zone ${rt})::date + 1)::timestamp at time zone ${rt}) <= b1 as full_day
        from hours join buckets using (idx)
    )`
}

/** Refuses questions whose bucket boundaries fall inside a rollup hour. */
export async function assertExact(db: Db, q: Question, interval: Interval | null): Promise<void> {
  const [row] = await prepared<{ misaligned: string | null }>(
    db,
    sql`
    with buckets as (${bucketsOf(q, interval)})
    select to_char(min(b) at time zone ${q.tz}, 'YYYY-MM-DD HH24:MI') as misaligned
      from (select b0 as b from buckets union all select b1 from buckets) boundaries
     where date_trunc('hour', b, ${q.rollupTz}) <> b`,
  )
  if (row?.misaligned) {
    throw new InexactTimezoneError(
      `tz ${q.tz} cannot be answered exactly: its boundary ${row.misaligned} falls inside an hour of ${q.rollupTz}, ` +
        `the timezone this site's rollups are kept in. Use a zone whose offset differs from ${q.rollupTz} by whole hours, ` +
        `or set the site's timezone (PUT /sites/:id).`,
    )
  }
}

/** Rollup rows that make up each bucket: whole days from a day table, edge hours from an hour table. */
export function parts(siteId: string, dayTable: SQL, hourTable: SQL, columns: SQL): SQL {
  return sql`
    select fd.idx, ${columns} from (select distinct idx, day from hm where full_day) fd
      join ${dayTable} r on r.site_id = ${siteId} and r.day = fd.day
    union all
    select hm.idx, ${columns} from hm
      join ${hourTable} r on r.site_id = ${siteId} and r.hour = hm.h
     where not hm.full_day`
}

interface BucketTotals {
  idx: number
  start: string
  views: number
  events: number
  unique_users: number
}

/** Views, events and distinct users per bucket. */
export async function bucketTotals(db: Db, q: Question, interval: Interval | null): Promise<BucketTotals[]> {
  const totals = await prepared<{ idx: number; start: string; views: number; events: number; simple_users: number | null; needs_bitmap: boolean }>(
    db,
    sql`
    with ${plan(q, interval)},
    counted as (
      select idx, sum(views)::int as views, sum(events)::int as events
        from (${parts(q.siteId, sql`${rollupDays}`, sql`${rollupHours}`, sql`r.views, r.events`)}) p group by idx
    ),
    shape as (
      -- A bucket that is exactly one rollup hour or one whole rollup day has its users counted already.
      select idx, count(*) as hours, count(distinct day) filter (where full_day) as full_days, bool_and(full_day) as all_full,
             min(h) as first_hour, min(day) as first_day
        from hm group by idx
    )
    select b.idx, to_json(b.b0) #>> '{}' as start, coalesce(c.views, 0) as views, coalesce(c.events, 0) as events,
           case when s.hours = 1 then coalesce((select users from ${rollupHours} where site_id = ${q.siteId} and hour = s.first_hour), 0)
                when s.all_full and s.full_days = 1 then coalesce((select users from ${rollupDays} where site_id = ${q.siteId} and day = s.first_day), 0)
           end as simple_users,
           not (s.hours = 1 or (s.all_full and s.full_days = 1)) as needs_bitmap
      from buckets b left join counted c using (idx) left join shape s using (idx)
     order by b.idx`,
  )

  const needBitmap = totals.filter((row) => row.needs_bitmap && (row.events > 0 || row.views > 0))
  const bitmapUsers =
    needBitmap.length > 0
      ? await bitmapUsersPerBucket(
          db,
          q,
          interval,
          needBitmap.map((row) => row.idx),
        )
      : new Map<number, number>()
  return totals.map((row) => ({
    idx: row.idx,
    start: row.start,
    views: row.views,
    events: row.events,
    unique_users: row.simple_users ?? bitmapUsers.get(row.idx) ?? 0,
  }))
}

/**
 * Distinct users per bucket from the user bitmaps: users with a bit inside the bucket. Whole
 * days use the day masks, which an index-only scan answers; the 768-bit hour masks are read only
 * when a bucket has partial days (a zone other than the site's).
 */
async function bitmapUsersPerBucket(db: Db, q: Question, interval: Interval | null, buckets: number[]): Promise<Map<number, number>> {
  const masks = await prepared<UserMask>(
    db,
    sql`
      with ${plan(q, interval)},
      masks as (
        select idx, month,
               coalesce(bit_or(${userDayBit(sql`day_index`)}) filter (where full_day), 0) as day_mask,
               (bit_or(${userHourBit(sql`hour_index`)}) filter (where not full_day))::text as hour_mask
          from hm where idx = any(${`{${buckets.join(',')}}`}::int[])
         group by idx, month
      )
      select idx, month::text as month, day_mask, hour_mask from masks`,
  )
  return countUsersByMask(db, q.siteId, masks)
}

/** Which days (bit d = day d + 1) and, for partial days, which hours of one month count for a bucket. */
export interface UserMask {
  idx: number
  month: string
  day_mask: number
  /** 768 characters of 0 and 1, or null when the bucket has only whole days in this month. */
  hour_mask: string | null
}

/** Distinct users per bucket: users whose bitmap for a month shares a bit with the bucket's masks. */
export async function countUsersByMask(db: Db, siteId: string, masks: UserMask[]): Promise<Map<number, number>> {
  // Without hour masks the hour bitmaps are not read, so the covering index answers alone.
  const matches = (mask: { day_mask: unknown; hour_mask: unknown }, withHours: boolean) =>
    withHours
      ? sql`(u.days & ${mask.day_mask}) <> 0 or (${mask.hour_mask} is not null and bit_count(u.hours & ${mask.hour_mask}::bit(768)) > 0)`
      : sql`(u.days & ${mask.day_mask}) <> 0`
  if (masks.length === 1) {
    // One bucket in one month (every whole-month-or-less question): a plain count whose
    // parameters the planner sees, with no join or grouping.
    const [mask] = masks as [UserMask]
    const [row] = await prepared<{ users: number }>(
      db,
      sql`select count(*)::int as users from ${userMonths} u
           where u.site_id = ${siteId} and u.month = ${mask.month}::date
             and (${matches({ day_mask: sql`${mask.day_mask}::int`, hour_mask: sql`${mask.hour_mask}::text` }, mask.hour_mask !== null)})`,
    )
    return new Map([[mask.idx, row?.users ?? 0]])
  }
  const months = Map.groupBy(masks, (mask) => mask.idx)
  const json = JSON.stringify(masks.map((mask) => ({ ...mask, months: months.get(mask.idx)!.length })))
  const withHours = masks.some((mask) => mask.hour_mask !== null)
  const monthsAsked = masks.map((mask) => mask.month).sort()
  // A user has one row per month: within one month rows are users; across months a hash of
  // user ids is cheaper than count(distinct), which sorts. Not materialized, so each branch
  // joins only its own masks and nothing spills to a temporary file.
  const rows = await prepared<{ idx: number; users: number }>(
    db,
    sql`
      with masks as (select * from json_to_recordset(${json}::json) as m(idx int, month date, day_mask int, hour_mask text, months int)),
      active as not materialized (
        select m.idx, m.months, u.user_id
          from masks m join ${userMonths} u on u.site_id = ${siteId} and u.month = m.month
         where ${matches({ day_mask: sql`m.day_mask`, hour_mask: sql`m.hour_mask` }, withHours)}
           -- Constant bounds, so only the months asked about are read however many rows the masks look like.
           and u.month between ${monthsAsked[0]}::date and ${monthsAsked.at(-1)}::date
      )
      select idx, count(*)::int as users from active where months = 1 group by idx
      union all
      select idx, count(*)::int from (select idx, user_id from active where months > 1 group by idx, user_id) d group by idx`,
  )
  return new Map(rows.map((row) => [row.idx, row.users]))
}

/** Day masks (bit d = day d + 1) per month for the calendar dates from..to. */
export function dayMasks(from: string, to: string): { month: string; day_mask: number }[] {
  const masks = new Map<string, number>()
  for (let at = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); at <= end; at += 86_400_000) {
    const date = new Date(at).toISOString()
    const month = `${date.slice(0, 7)}-01`
    masks.set(month, (masks.get(month) ?? 0) | (1 << (Number(date.slice(8, 10)) - 1)))
  }
  return [...masks].map(([month, day_mask]) => ({ month, day_mask }))
}
