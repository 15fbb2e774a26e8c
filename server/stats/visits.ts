import { sql, type SQL } from 'drizzle-orm'
import { prepared, type Db } from '../../drizzle/client'
import { pageVisitors, rollupDayPaths, rollupHourPaths, sites, visits } from '../../drizzle/schema'
import { assertExact, bucketsOf, parts, plan, type Interval, type Question, type SiteDays } from './buckets'
import type { BreakdownProperty } from './model'

/*
 * Visit numbers, read from the visits table the worker keeps (worker/visits): a visit belongs to
 * the bucket its first event falls in. Visits start at exact instants, so any bucket is exact; the
 * page breakdown reads hourly rollups and asks for the same zones /stats does.
 */

export const NOT_SET = '(not set)'

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
const roundedRatio = (a: number, b: number) => Math.floor((2 * a + b) / (2 * b))

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
function totalsBy(key: SQL, from: SQL): SQL {
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

/** Visitors, visits, bounce rate, visit duration and views per visit of a range. */
export async function getVisitMetrics(db: Db, q: SiteDays | Question): Promise<VisitMetrics> {
  const [row] = await prepared<VisitTotals>(
    db,
    sql`with b as (${rangeBucket(q)}) ${totalsBy(sql`0`, sql`from ${visits} v, b where ${withinBucket(q.siteId)}`)}`,
  )
  return visitMetrics(row ?? NO_VISITS)
}

/** Visitors and visits per bucket (buckets without visits are absent). */
export async function visitsPerBucket(db: Db, q: Question, interval: Interval): Promise<Map<number, { visitors: number; visits: number }>> {
  const rows = await prepared<{ key: number; visitors: number; visits: number }>(
    db,
    sql`with b as (${bucketsOf(q, interval)}) ${totalsBy(sql`b.idx`, sql`from b join ${visits} v on ${withinBucket(q.siteId)}`)}`,
  )
  return new Map(rows.map((row) => [row.key, { visitors: row.visitors, visits: row.visits }]))
}

export type VisitBreakdownRow = { value: string; visitors: number; visits: number; views: number; bounce_rate: number; visit_duration: number }
export type PageBreakdownRow = { value: string; visitors: number; views: number }

/** The visits column of each visit property. */
const COLUMN: Record<Exclude<BreakdownProperty, 'page'>, string> = {
  source: 'source',
  channel: 'channel',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  utm_content: 'utm_content',
  utm_term: 'utm_term',
  referrer: 'referrer',
  entry_page: 'entry_page',
  exit_page: 'exit_page',
  browser: 'browser',
  os: 'os',
  device: 'device',
  country: 'country',
}

export interface BreakdownPage {
  limit: number
  page: number
}

/**
 * One property's values over the range, most visitors first, then by value in byte order.
 * Campaign tags list only the visits that have one; other properties show a missing value as
 * "(not set)".
 */
export async function getBreakdown(db: Db, q: Question, property: BreakdownProperty, paging: BreakdownPage): Promise<VisitBreakdownRow[] | PageBreakdownRow[]> {
  await assertExact(db, q, null)
  const window = sql`limit ${paging.limit} offset ${(paging.page - 1) * paging.limit}`
  if (property === 'page') return getPageBreakdown(db, q, window)
  const column = sql.raw(`v.${COLUMN[property]}`)
  const onlySet = property.startsWith('utm_') ? sql`and ${column} is not null` : sql``
  const value = sql.raw(`coalesce(v.${COLUMN[property]}, '${NOT_SET}')`)
  const rows = await prepared<VisitTotals & { key: string }>(
    db,
    sql`with b as (${bucketsOf(q, null)})
        ${totalsBy(value, sql`from ${visits} v, b where ${withinBucket(q.siteId)} ${onlySet}`)}
        order by visitors desc, key collate "C" asc ${window}`,
  )
  return rows.map(({ key: value, ...totals }) => {
    const metrics = visitMetrics(totals)
    return {
      value,
      visitors: metrics.visitors,
      visits: metrics.visits,
      views: totals.views,
      bounce_rate: metrics.bounce_rate,
      visit_duration: metrics.visit_duration,
    }
  })
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
