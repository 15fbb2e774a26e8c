import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { events } from '../../drizzle/schema'
import { stepsReached, type FunnelEvent } from '../goals/funnel'
import { getFunnelSteps, goalMatch, matchableGoals, uuidArray } from '../goals/queries'
import { bucketsOf, type Question } from './buckets'
import { pageWindow, roundedRatio, type BreakdownPage } from './visits'
import { conversionScope, filteredRangeEvents, runFiltered } from './filtered'
import type { Filter } from './filters'

/*
 * Custom properties and goals are counted from the stored events when asked, in any zone (events
 * and visits carry exact instants): a goal added today counts every past conversion, and a
 * property needs no rollup per key a site may invent.
 */

/** part / whole × 100, rounded half up to one decimal; 0 when whole is 0 (conversion rates). */
const percentOf = (part: number, whole: number) => (whole === 0 ? 0 : roundedRatio(1000 * part, whole) / 10)

export type PropBreakdownRow = { value: string; visitors: number; events: number }
export type GoalBreakdownRow = { value: string; visitors: number; events: number; conversion_rate: number }

/**
 * Values of one custom property over the range's events (by their own time) that carry it, and
 * whose visit the filters keep; with `key` null, the keys themselves.
 */
export function getPropBreakdown(db: Db, q: Question, key: string | null, paging: BreakdownPage, filters: Filter[] = []): Promise<PropBreakdownRow[]> {
  const carries = key === null ? sql`e.props is not null` : sql`e.props ->> ${key} is not null`
  // Unfiltered, the events alone answer (an anonymous event is a visitor of its own); filtered, those of the kept visits.
  const source =
    filters.length === 0
      ? sql`with b as (${bucketsOf(q, null)}),
            re as (select e.props, coalesce(e.user_id, e.event_id) as visitor_id, e.user_id is null as anonymous
                     from ${events} e, b where e.site_id = ${q.siteId} and e.timestamp >= b.b0 and e.timestamp < b.b1 and ${carries})`
      : sql`with ${filteredRangeEvents(q, filters)}`
  const values = key === null ? sql`re, jsonb_object_keys(re.props) as k(value)` : sql`(select re.*, re.props ->> ${key} as value from re) re`
  return runFiltered<PropBreakdownRow>(
    db,
    filters,
    sql`
    ${source}
    select value, count(*)::int as visitors, sum(n)::int as events
      from (select value, count(*) as n from ${values} where value is not null
             -- Per visitor first, then per value: hash aggregations instead of a sorting count(distinct).
             group by value, re.visitor_id, re.anonymous) per_visitor
     group by value
     order by visitors desc, value collate "C" asc ${pageWindow(paging)}`,
  )
}

/**
 * Every goal of the site over the visits that start in the range (and pass the filters): the
 * visitors with a matching event in one of those visits, the matching events in them, and those
 * visitors per cent of all those visits' visitors (rounded half up to one decimal). Goals without
 * conversions are listed too.
 */
export async function getGoalBreakdown(db: Db, q: Question, paging: BreakdownPage, filters: Filter[] = []): Promise<GoalBreakdownRow[]> {
  const rows = await runFiltered<{ value: string; visitors: number; events: number; all_visitors: number }>(
    db,
    filters,
    sql`
    with ${conversionScope(q, filters)},
    g as (${matchableGoals(q.siteId)}),
    hits as (select g.name, e.visitor_id, e.anonymous, count(*) as n from ke e join g on ${goalMatch('e', 'g')} group by 1, 2, 3)
    select g.name as value, count(h.visitor_id)::int as visitors, coalesce(sum(h.n), 0)::int as events,
           (select count(*) from (select 1 from kv group by visitor_id, anonymous) per_visitor)::int as all_visitors
      from g left join hits h using (name)
     group by g.name
     order by visitors desc, g.name collate "C" asc ${pageWindow(paging)}`,
  )
  return rows.map(({ all_visitors: all, ...row }) => ({ ...row, conversion_rate: percentOf(row.visitors, all) }))
}

export interface FunnelStep {
  name: string
  visitors: number
  conversion_rate: number
  dropoff: number
}

/**
 * A funnel over the visits that start in the range (and pass the filters): a visitor reaches step n when one of those
 * visits reaches it (goals/funnel.ts). The events that match some step are read per visit in
 * time order and walked here. Null when the site has no such funnel.
 */
export async function getFunnelReport(db: Db, q: Question, funnelId: string, filters: Filter[] = []): Promise<{ name: string; steps: FunnelStep[] } | null> {
  const funnel = await getFunnelSteps(db, q.siteId, funnelId)
  if (!funnel) return null
  const rows = await runFiltered<{ visitor: string; started_at: string; at: number; steps: number[] }>(
    db,
    filters,
    sql`
    with ${conversionScope(q, filters)},
    s as (select u.n::int - 1 as step, g.name, g.event_type, g.pattern
            from unnest(${uuidArray(funnel.steps)}) with ordinality as u(goal_id, n) join (${matchableGoals(q.siteId)}) g using (goal_id))
    select (e.anonymous::int || e.visitor_id) as visitor, e.visit_start::text as started_at, extract(epoch from e.timestamp)::float8 * 1000 as at,
           array_agg(s.step order by s.step) as steps
      from ke e join s on ${goalMatch('e', 's')}
     group by e.visitor_id, e.anonymous, e.visit_start, e.timestamp, e.event_id
     order by e.visitor_id, e.anonymous, e.visit_start, e.timestamp, e.event_id`,
  )
  const names = funnel.stepNames
  // The furthest step each visitor reaches in any of their visits.
  const furthest = new Map<string, number>()
  const visitsOf = Map.groupBy(rows, (row) => `${row.visitor}\u0000${row.started_at}`)
  for (const visit of visitsOf.values()) {
    const reached = stepsReached(visit as FunnelEvent[], names.length)
    const visitor = visit[0]!.visitor
    furthest.set(visitor, Math.max(furthest.get(visitor) ?? 0, reached))
  }
  const reachedBy = names.map((_, step) => [...furthest.values()].filter((reached) => reached > step).length)
  return {
    name: funnel.name,
    steps: names.map((name, step) => ({
      name,
      visitors: reachedBy[step]!,
      conversion_rate: percentOf(reachedBy[step]!, reachedBy[0]!),
      dropoff: step === 0 ? 0 : reachedBy[step - 1]! - reachedBy[step]!,
    })),
  }
}
