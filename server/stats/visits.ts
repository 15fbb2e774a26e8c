import { sql, type SQL } from 'drizzle-orm'
import { prepared, type Db } from '../../drizzle/client'
import { pageVisitors, rollupDayPaths, rollupHourPaths, sites, valueVisitors, visitDays, visits } from '../../drizzle/schema'
import { ALL_VISITS, onlyWhenSet, PAGE_VIEWS, visitValueSql, type BreakdownProperty } from '../../lib/visit-properties'
import { assertExact, bucketsOf, dayMasks, parts, plan, type Interval, type Question, type SiteDays } from './buckets'

/*
 * Visit numbers. A visit belongs to the bucket its first event falls in. Questions over whole days
 * of the site's rollup zone (the usual ones) read the figures the worker keeps per day and value
 * (visit_days, value_visitors: worker/visits/rollups.ts); questions in another zone, or per hour,
 * week or month, read the visits table (visits start at exact instants, so any bucket is exact)
 * and, for pages, the hourly rollups, with the same zones /stats answers.
 */

/** Sums over a set of visits. */
export interface VisitTotals {
  visits: number
  /** Distinct visitors: identified ones once, each anonymous visit as one of its own. */
  visitors: number
  bounces: number
  /** Sum of (last - first event time) over the visits, in milliseconds. */
  duration_ms: number
  views: number
}

export interface VisitMetrics {
  visitors: number
  visits: number
  bounce_rate: number
  visit_duration: number
  views_per_visit: number
}

/** a / b rounded half up to a whole number, for non-negative integers (no floating point error). */
export const roundedRatio = (a: number, b: number) => Math.floor((2 * a + b) / (2 * b))

/** The reported figures of some visits, rounded half up as the README defines them; 0 without visits. */
export function visitMetrics(totals: VisitTotals): VisitMetrics {
  const { visits: n } = totals
  if (n === 0) return { visitors: 0, visits: 0, bounce_rate: 0, visit_duration: 0, views_per_visit: 0 }
  return {
    visitors: totals.visitors,
    visits: n,
    bounce_rate: roundedRatio(100 * totals.bounces, n),
    visit_duration: roundedRatio(Math.round(totals.duration_ms), 1000 * n),
    views_per_visit: roundedRatio(100 * totals.views, n) / 100,
  }
}

/**
 * Visit totals per key over the visits `from` selects. Visits are grouped per visitor first and
 * then per key, so distinct visitors are a count of groups: two hash aggregations, where
 * count(distinct) would sort every visit. Durations are summed as whole milliseconds (events are
 * stored at millisecond precision), so the mean rounds exactly.
 */
export function totalsBy(key: SQL, from: SQL): SQL {
  return sql`
    select key, count(*)::int as visitors, sum(visits)::int as visits, sum(bounces)::int as bounces,
           sum(duration_ms)::float8 as duration_ms, sum(views)::int as views
      from (select ${key} as key, count(*) as visits, count(*) filter (where v.events = 1) as bounces,
                   sum((date_part('epoch', v.ended_at - v.started_at) * 1000)::bigint) as duration_ms, sum(v.views) as views
              ${from} group by 1, v.visitor_id, v.anonymous) per_visitor
     group by key`
}

const NO_VISITS: VisitTotals = { visits: 0, visitors: 0, bounces: 0, duration_ms: 0, views: 0 }

/** The range as one bucket: in the asker's zone, or whole days of the site's zone for SiteDays. */
function rangeBucket(q: SiteDays | Question): SQL {
  if ('tz' in q) return bucketsOf(q, null)
  const zone = sql`coalesce((select rollup_timezone from ${sites} where site_id = ${q.siteId}), 'UTC')`
  return sql`select 0 as idx, (${q.from}::date::timestamp at time zone ${zone}) as b0, ((${q.to}::date + 1)::timestamp at time zone ${zone}) as b1`
}

const withinBucket = (siteId: string) => sql`v.site_id = ${siteId} and v.started_at >= b.b0 and v.started_at < b.b1`

/** Whole days of the site's rollup zone: what visit_days answers. */
const onSiteDays = (q: SiteDays | Question): boolean => !('tz' in q) || q.tz === q.rollupTz

/**
 * Visit totals per value of a property (ALL_VISITS: one row, value '') over whole days of the
 * rollup zone, from visit_days: one day's visitors are kept as they are; over several days the
 * identified ones are counted from value_visitors and the anonymous ones added.
 */
function rolledUpTotals(q: SiteDays, property: string): SQL {
  const days = sql`d.site_id = ${q.siteId} and d.property = ${property} and d.day between ${q.from}::date and ${q.to}::date`
  const totals = sql`sum(d.visits)::int as visits, sum(d.bounces)::int as bounces, sum(d.duration_ms)::float8 as duration_ms, sum(d.views)::int as views`
  if (q.from === q.to) {
    return sql`select d.value as key, d.visitors, d.visits, d.bounces, d.duration_ms::float8 as duration_ms, d.views from ${visitDays} d where ${days} and d.visitors > 0`
  }
  const masks = dayMasks(q.from, q.to)
  // Within one month a visitor has one row per value; across months the rows are grouped per visitor.
  const identified =
    masks.length === 1
      ? sql`select value_key, count(*)::int as visitors from ${valueVisitors}
             where site_id = ${q.siteId} and property = ${property} and month = ${masks[0]!.month}::date and days & ${masks[0]!.day_mask}::int <> 0
             group by value_key`
      : sql`select value_key, count(*)::int as visitors
              from (select vv.value_key from ${valueVisitors} vv join json_to_recordset(${JSON.stringify(masks)}::json) as m(month date, day_mask int) on vv.month = m.month
                     where vv.site_id = ${q.siteId} and vv.property = ${property} and vv.days & m.day_mask <> 0
                       -- Constant bounds, so only the months asked about are read however many rows the masks look like.
                       and vv.month between ${masks[0]!.month}::date and ${masks.at(-1)!.month}::date
                     group by vv.value_key, vv.visitor_key) per_visitor
             group by value_key`
  return sql`
    select t.key, coalesce(i.visitors, 0) + t.anonymous as visitors, t.visits, t.bounces, t.duration_ms, t.views
      from (select d.value_key, min(d.value) as key, sum(d.anonymous)::int as anonymous, ${totals}
              from ${visitDays} d where ${days} group by d.value_key having sum(d.visitors) > 0) t
      left join (${identified}) i using (value_key)`
}

/** Visitors, visits, bounce rate, visit duration and views per visit of a range. */
export async function getVisitMetrics(db: Db, q: SiteDays | Question): Promise<VisitMetrics> {
  if (onSiteDays(q)) {
    const [row] = await prepared<VisitTotals>(db, rolledUpTotals(q, ALL_VISITS))
    return visitMetrics(row ?? NO_VISITS)
  }
  const [row] = await prepared<VisitTotals>(
    db,
    sql`with b as (${rangeBucket(q)}) ${totalsBy(sql`0`, sql`from ${visits} v, b where ${withinBucket(q.siteId)}`)}`,
  )
  return visitMetrics(row ?? NO_VISITS)
}

/** Visitors and visits per bucket (buckets without visits are absent). */
export async function visitsPerBucket(db: Db, q: Question, interval: Interval): Promise<Map<number, { visitors: number; visits: number }>> {
  if (interval === 'day' && onSiteDays(q)) {
    const days = await prepared<{ key: number; visitors: number; visits: number }>(
      db,
      sql`select (day - ${q.from}::date) as key, visitors, visits from ${visitDays}
           where site_id = ${q.siteId} and property = ${ALL_VISITS} and day between ${q.from}::date and ${q.to}::date and visitors > 0`,
    )
    return new Map(days.map((row) => [row.key, { visitors: row.visitors, visits: row.visits }]))
  }
  const rows = await prepared<{ key: number; visitors: number; visits: number }>(
    db,
    sql`with b as (${bucketsOf(q, interval)}) ${totalsBy(sql`b.idx`, sql`from b join ${visits} v on ${withinBucket(q.siteId)}`)}`,
  )
  return new Map(rows.map((row) => [row.key, { visitors: row.visitors, visits: row.visits }]))
}

export type VisitBreakdownRow = { value: string; visitors: number; visits: number; views: number; bounce_rate: number; visit_duration: number }
export type PageBreakdownRow = { value: string; visitors: number; views: number }

export interface BreakdownPage {
  limit: number
  page: number
}

/** The LIMIT and OFFSET of a page of rows. */
export const pageWindow = (paging: BreakdownPage) => sql`limit ${paging.limit} offset ${(paging.page - 1) * paging.limit}`

/**
 * One property's values over the range, most visitors first, then by value in byte order.
 * Campaign tags list only the visits that have one; other properties show a missing value as
 * "(not set)".
 */
export async function getBreakdown(db: Db, q: Question, property: BreakdownProperty, paging: BreakdownPage): Promise<VisitBreakdownRow[] | PageBreakdownRow[]> {
  const window = pageWindow(paging)
  const order = sql`order by visitors desc, key collate "C" asc ${window}`
  if (onSiteDays(q)) {
    const rows = await prepared<VisitTotals & { key: string }>(
      db,
      sql`select * from (${rolledUpTotals(q, property === 'page' ? PAGE_VIEWS : property)}) r ${order}`,
    )
    if (property === 'page') return rows.map((row) => ({ value: row.key, visitors: row.visitors, views: row.views }))
    return rows.map(visitBreakdownRow)
  }
  await assertExact(db, q, null)
  if (property === 'page') return getPageBreakdown(db, q, window)
  const column = sql.raw(`v.${property}`)
  const onlySet = onlyWhenSet(property) ? sql`and ${column} is not null` : sql``
  const value = sql.raw(visitValueSql('v', property))
  const rows = await prepared<VisitTotals & { key: string }>(
    db,
    sql`with b as (${bucketsOf(q, null)})
        ${totalsBy(value, sql`from ${visits} v, b where ${withinBucket(q.siteId)} ${onlySet}`)} ${order}`,
  )
  return rows.map(visitBreakdownRow)
}

export function visitBreakdownRow({ key: value, ...totals }: VisitTotals & { key: string }): VisitBreakdownRow {
  const metrics = visitMetrics(totals)
  return {
    value,
    visitors: metrics.visitors,
    visits: metrics.visits,
    views: totals.views,
    bounce_rate: metrics.bounce_rate,
    visit_duration: metrics.visit_duration,
  }
}

/** Pages over the page views of the range: views from the path rollups, visitors from page_visitors. */
function getPageBreakdown(db: Db, q: Question, window: SQL): Promise<PageBreakdownRow[]> {
  return prepared<PageBreakdownRow>(
    db,
    sql`
    with ${plan(q, null)},
    viewed as (
      select path, sum(views)::int as views
        from (${parts(q.siteId, sql`${rollupDayPaths}`, sql`${rollupHourPaths}`, sql`r.path, r.views`)}) p group by path
    ),
    seen as (
      -- Per visitor first, then per page: hash aggregations instead of a sorting count(distinct).
      select path, count(*)::int as visitors
        from (select p.path from ${pageVisitors} p, buckets b
               where p.site_id = ${q.siteId} and p.hour >= b.b0 and p.hour < b.b1
               group by p.path, p.visitor_key, p.anonymous) per_visitor
       group by path
    )
    select viewed.path as value, seen.visitors, viewed.views from viewed join seen using (path)
     order by seen.visitors desc, viewed.path collate "C" asc ${window}`,
  )
}
