import { sql, type SQL } from 'drizzle-orm'
import { prepared, type Db } from '../../drizzle/client'
import { eventRetention, events, goals, visits } from '../../drizzle/schema'
import { rawEventsGone } from '../../lib/retention'
import { onlyWhenSet, visitValueSql, type BreakdownProperty } from '../../lib/visit-properties'
import { goalMatch, matchableGoals } from '../goals/queries'
import { BadRequestError } from '../errors'
import { bucketsOf, rangeBounds, type Interval, type Question } from './buckets'
import type { Filter } from './filters'
import type { StatsNumbers, TimeseriesBucket } from './model'
import {
  pageWindow,
  totalsBy,
  visitBreakdownRow,
  visitMetrics,
  type BreakdownPage,
  type PageBreakdownRow,
  type VisitBreakdownRow,
  type VisitMetrics,
  type VisitTotals,
} from './visits'

/*
 * Questions over the visits that pass some filters, and the events of those visits, computed from
 * the visits and events tables (exact in any zone). A filter is a test on visits: on a visit
 * property, the visit's value; on an event property (page, event_type, goal, props:*), whether the
 * visit has a matching event (`!=`: none). Every figure is then its unfiltered definition over
 * the kept visits (those that start in the range) or over the range's events whose visit is kept,
 * so filters that keep every visit give the unfiltered answer.
 */

const list = (values: string[]) =>
  sql`(${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )})`

/**
 * Runs a statement whose text depends on the filters: unprepared when there are some, so that no
 * connection keeps a prepared statement for every shape of filters it was ever asked.
 */
export function runFiltered<T>(db: Db, filters: Filter[], query: SQL): Promise<T[]> {
  return filters.length === 0 ? prepared<T>(db, query) : (db.execute(query) as unknown as Promise<T[]>)
}

/** Whether `value` passes the operator: is one of, is none of (a missing value is none of them), contains. */
function test(filter: Filter, value: SQL): SQL {
  if (filter.operator === 'contains') return sql`coalesce(strpos(lower(${value}), lower(${filter.values[0]!})) > 0, false)`
  const isOne = sql`coalesce(${value} in ${list(filter.values)}, false)`
  return filter.operator === 'is' ? isOne : sql`not ${isOne}`
}

/** Whether event `e` matches an event filter's values (the visit then keeps or drops on it). */
function eventMatch(siteId: string, filter: Filter & { kind: 'event' }): SQL {
  const positive = { ...filter, operator: filter.operator === 'is_not' ? ('is' as const) : filter.operator }
  if (filter.property === 'page') return sql`(e.event_type = 'page_view' and ${test(positive, sql`e.path`)})`
  if (filter.property === 'event_type') return test(positive, sql`e.event_type`)
  if (filter.property === 'goal')
    return sql`exists (select 1 from (${matchableGoals(siteId)}) g where ${test(positive, sql`g.name`)} and ${goalMatch('e', 'g')})`
  return test(positive, sql`(e.props ->> ${filter.property.slice('props:'.length)})`)
}

/**
 * Refuses a question read from raw events (`what` they are) whose range starts before the raw
 * events kept: retention dropped those months, and the answer would silently miss them.
 */
export async function checkRawEvents(db: Db, q: Question, what: string): Promise<void> {
  const [start] = rangeBounds(q)
  const [row] = await db.execute<{ dropped_before: string }>(
    sql`select to_json(dropped_before) #>> '{}' as dropped_before from ${eventRetention} where ${start} < dropped_before`,
  )
  if (row) throw new BadRequestError(rawEventsGone(what, new Date(row.dropped_before)))
}

/** Refuses goal filters naming a goal the site does not have (a typo would silently keep nothing). */
export async function checkGoalFilters(db: Db, siteId: string, filters: Filter[]): Promise<void> {
  const named = filters.filter((filter) => filter.property === 'goal' && filter.operator !== 'contains').flatMap((filter) => filter.values)
  if (named.length === 0) return
  const rows = await runFiltered<{ name: string }>(db, filters, sql`select name from ${goals} where site_id = ${siteId} and name in ${list(named)}`)
  const known = new Set(rows.map((row) => row.name))
  const unknown = named.find((name) => !known.has(name))
  if (unknown !== undefined) throw new BadRequestError(`filters: ${JSON.stringify(unknown)} is not a goal of this site`)
}

/**
 * The CTEs every filtered question reads: `b` the buckets; `cv` the candidate visits (those that
 * start in the range, or with `overlapping` also those that reach into it, whose events may fall
 * in it) passing the visit filters; `ev` their events, each with its visit's key (the visitor's
 * visit whose start and end enclose it); `kv` the visits that also pass the event filters; `ke`
 * the events of those.
 */
function scope(q: Question, filters: Filter[], buckets: SQL, overlapping: boolean): SQL {
  const visitTests = filters.filter((filter) => filter.kind === 'visit').map((filter) => test(filter, sql.raw(visitValueSql('v', filter.property))))
  const eventFilters = filters.filter((filter): filter is Filter & { kind: 'event' } => filter.kind === 'event')
  // The range's bounds written out, not read from b: the planner then knows how many visits match
  // and hashes the events against them (from a CTE it guessed a few hundred, and sorted both sides).
  const [start, end] = rangeBounds(q)
  const reach = overlapping ? sql`v.ended_at >= ${start}` : sql`v.started_at >= ${start}`
  const flags = eventFilters.map((filter, i) => sql`bool_or(${eventMatch(q.siteId, filter)}) as ${sql.raw(`f${i}`)}`)
  const kept = eventFilters.map((filter, i) => {
    const has = sql.raw(`coalesce(fl.f${i}, false)`)
    return filter.operator === 'is_not' ? sql`not ${has}` : has
  })
  return sql`
    b as (${buckets}),
    cv as (select v.* from ${visits} v
            where v.site_id = ${q.siteId} and v.started_at < ${end} and ${reach}
              ${sql.join(
                visitTests.map((condition) => sql` and ${condition}`),
                sql``,
              )}),
    ev as (select e.event_id, e.event_type, e.path, e.user_id, e.timestamp, e.props, cv.visitor_id, cv.anonymous, cv.started_at as visit_start
             from ${events} e
             join cv on cv.visitor_id = coalesce(e.user_id, e.event_id) and cv.anonymous = (e.user_id is null)
                    and e.timestamp between cv.started_at and cv.ended_at
            where e.site_id = ${q.siteId} and e.timestamp >= (select min(started_at) from cv) and e.timestamp <= (select max(ended_at) from cv)),
    kv as (${
      eventFilters.length === 0
        ? sql`select * from cv`
        : sql`select cv.* from cv
                left join (select e.visitor_id, e.anonymous, e.visit_start, ${sql.join(flags, sql`, `)} from ev e group by 1, 2, 3) fl
                  on fl.visitor_id = cv.visitor_id and fl.anonymous = cv.anonymous and fl.visit_start = cv.started_at
               where ${sql.join(kept, sql` and `)}`
    }),
    ke as (${
      eventFilters.length === 0
        ? sql`select * from ev`
        : sql`select ev.* from ev join kv on kv.visitor_id = ev.visitor_id and kv.anonymous = ev.anonymous and kv.started_at = ev.visit_start`
    })`
}

/** The kept visits that start in bucket `b` (an alias of b). */
const keptVisitsIn = sql`from kv v join b on v.started_at >= b.b0 and v.started_at < b.b1`

/** Views, users, top paths, event types and visit figures of the range, filtered. */
export async function getFilteredStats(db: Db, q: Question, filters: Filter[], limit: number): Promise<StatsNumbers & VisitMetrics> {
  const [row] = await runFiltered<{
    views: number
    users: number
    top_paths: StatsNumbers['top_paths']
    event_types: StatsNumbers['event_types']
    totals: VisitTotals | null
  }>(
    db,
    filters,
    sql`
    with ${filteredRangeEvents(q, filters)}
    select (select count(*) from re where event_type = 'page_view')::int as views,
           (select count(distinct user_id) from re)::int as users,
           (select coalesce(json_agg(json_build_object('path', path, 'views', views) order by views desc, path collate "C" asc), '[]')
              from (select path, count(*)::int as views from re where event_type = 'page_view' group by path
                     order by views desc, path collate "C" asc limit ${limit}) top) as top_paths,
           (select coalesce(json_agg(json_build_object('event_type', event_type, 'count', count) order by count desc, event_type collate "C" asc), '[]')
              from (select event_type, count(*)::int as count from re group by event_type) types) as event_types,
           (select row_to_json(t) from (${totalsBy(sql`0`, keptVisitsIn)}) t) as totals`,
  )
  const visitFigures = visitMetrics(row!.totals ?? { visits: 0, visitors: 0, bounces: 0, duration_ms: 0, views: 0 })
  return { total_views: row!.views, unique_users: row!.users, top_paths: row!.top_paths, event_types: row!.event_types, ...visitFigures }
}

/** Every bucket, empty ones as zeros: views and users of the kept visits' events, visitors and visits of the kept visits. */
export async function getFilteredTimeseries(db: Db, q: Question, interval: Interval, filters: Filter[]): Promise<TimeseriesBucket[]> {
  const rows = await runFiltered<{ start: string; views: number; unique_users: number; visitors: number; visits: number }>(
    db,
    filters,
    sql`
    with ${scope(q, filters, bucketsOf(q, interval), true)},
    by_events as (select b.idx, count(*) filter (where ke.event_type = 'page_view')::int as views, count(distinct ke.user_id)::int as unique_users
                    from ke join b on ke.timestamp >= b.b0 and ke.timestamp < b.b1 group by b.idx),
    by_visits as (${totalsBy(sql`b.idx`, keptVisitsIn)})
    select b.b0::text as start, coalesce(e.views, 0) as views, coalesce(e.unique_users, 0) as unique_users,
           coalesce(v.visitors, 0) as visitors, coalesce(v.visits, 0) as visits
      from b left join by_events e on e.idx = b.idx left join by_visits v on v.key = b.idx
     order by b.idx`,
  )
  return rows.map((row) => ({ ...row, start: new Date(row.start).toISOString() }))
}

/** A breakdown of the kept visits (visit properties) or of their events in the range (page). */
export async function getFilteredBreakdown(
  db: Db,
  q: Question,
  property: BreakdownProperty,
  filters: Filter[],
  paging: BreakdownPage,
): Promise<VisitBreakdownRow[] | PageBreakdownRow[]> {
  const window = pageWindow(paging)
  if (property === 'page') {
    return runFiltered<PageBreakdownRow>(
      db,
      filters,
      sql`
      with ${filteredRangeEvents(q, filters)}
      select path as value, count(*)::int as visitors, sum(n)::int as views
        from (select path, count(*) as n from re where event_type = 'page_view' group by path, visitor_id, anonymous) per_visitor
       group by path order by visitors desc, path collate "C" asc ${window}`,
    )
  }
  const value = sql.raw(visitValueSql('v', property))
  const onlySet = onlyWhenSet(property) ? sql`where ${value} is not null` : sql``
  const rows = await runFiltered<VisitTotals & { key: string }>(
    db,
    filters,
    sql`with ${scope(q, filters, bucketsOf(q, null), false)}
        select * from (${totalsBy(value, sql`${keptVisitsIn} ${onlySet}`)}) r order by visitors desc, key collate "C" asc ${window}`,
  )
  return rows.map(visitBreakdownRow)
}

/**
 * The visits and events goal and funnel reports read, as CTEs `b`, `kv` (visits starting in the
 * range, kept by the filters) and `ke` (their events): with no filters, every visit of the range.
 */
export const conversionScope = (q: Question, filters: Filter[]) => scope(q, filters, bucketsOf(q, null), false)

/** The range's events whose visit the filters keep, as CTE `re` (after `b`, `cv`, `ev`, `kv`, `ke`). */
export const filteredRangeEvents = (q: Question, filters: Filter[]) => sql`${scope(q, filters, bucketsOf(q, null), true)},
    re as (select ke.* from ke, b where ke.timestamp >= b.b0 and ke.timestamp < b.b1)`
