import { sql } from 'drizzle-orm'
import { prepared, type Db } from '../../drizzle/client'
import { events, goals, visits } from '../../drizzle/schema'
import { stepsReached, type FunnelEvent } from '../goals/funnel'
import { getFunnelSteps, goalMatch, uuidArray } from '../goals/queries'
import { bucketsOf, type Question } from './buckets'
import { getVisitMetrics, roundedRatio, type BreakdownPage } from './visits'

/*
 * Custom properties and goals are counted from the stored events when asked, in any zone (events
 * and visits carry exact instants): a goal added today counts every past conversion, and a
 * property needs no rollup per key a site may invent.
 */

export type PropBreakdownRow = { value: string; visitors: number; events: number }
export type GoalBreakdownRow = { value: string; visitors: number; events: number; conversion_rate: number }

const pageOf = (paging: BreakdownPage) => sql`limit ${paging.limit} offset ${(paging.page - 1) * paging.limit}`

/** The events a visitor is, as visits name them: the user, or the event itself when anonymous. */
const visitorOf = (e: string) => sql.raw(`coalesce(${e}.user_id, ${e}.event_id)`)

/** Values of one custom property over the range's events (by their own time) that carry it. */
export function getPropBreakdown(db: Db, q: Question, key: string, paging: BreakdownPage): Promise<PropBreakdownRow[]> {
  return prepared<PropBreakdownRow>(
    db,
    sql`
    with b as (${bucketsOf(q, null)})
    select value, count(*)::int as visitors, sum(n)::int as events
      from (select e.props ->> ${key} as value, count(*) as n
              from ${events} e, b
             where e.site_id = ${q.siteId} and e.timestamp >= b.b0 and e.timestamp < b.b1 and e.props ->> ${key} is not null
             -- Per visitor first, then per value: hash aggregations instead of a sorting count(distinct).
             group by 1, ${visitorOf('e')}, e.user_id is null) per_visitor
     group by value
     order by visitors desc, value collate "C" asc ${pageOf(paging)}`,
  )
}

/**
 * Every goal of the site over the visits that start in the range: the visitors with a matching
 * event in one of those visits, the matching events in them, and those visitors per cent of all
 * the range's visitors (rounded half up to one decimal). Goals without conversions are listed too.
 */
export async function getGoalBreakdown(db: Db, q: Question, paging: BreakdownPage): Promise<GoalBreakdownRow[]> {
  const [rows, { visitors: all }] = await Promise.all([
    prepared<{ value: string; visitors: number; events: number }>(
      db,
      sql`
      with b as (${bucketsOf(q, null)}),
      v as (select v.visitor_id, v.anonymous, v.started_at, v.ended_at from ${visits} v, b
             where v.site_id = ${q.siteId} and v.started_at >= b.b0 and v.started_at < b.b1),
      g as (select name, event_type, page from ${goals} where site_id = ${q.siteId}),
      hits as (
        select g.name, v.visitor_id, v.anonymous, count(*) as n
          from ${events} e
          join v on v.visitor_id = ${visitorOf('e')} and v.anonymous = (e.user_id is null) and e.timestamp between v.started_at and v.ended_at
          join g on ${goalMatch('e', 'g')}
         where e.site_id = ${q.siteId}
           -- The events of those visits: from the range's start to the end of its last visit.
           and e.timestamp >= (select b0 from b) and e.timestamp <= (select max(ended_at) from v)
         group by g.name, v.visitor_id, v.anonymous)
      select g.name as value, count(h.visitor_id)::int as visitors, coalesce(sum(h.n), 0)::int as events
        from g left join hits h using (name)
       group by g.name
       order by visitors desc, g.name collate "C" asc ${pageOf(paging)}`,
    ),
    getVisitMetrics(db, q),
  ])
  return rows.map((row) => ({ ...row, conversion_rate: all === 0 ? 0 : roundedRatio(1000 * row.visitors, all) / 10 }))
}

export interface FunnelStep {
  name: string
  visitors: number
  conversion_rate: number
  dropoff: number
}

/**
 * A funnel over the visits that start in the range: a visitor reaches step n when one of those
 * visits reaches it (goals/funnel.ts). The events that match some step are read per visit in
 * time order and walked here. Null when the site has no such funnel.
 */
export async function getFunnelReport(db: Db, q: Question, funnelId: string): Promise<{ name: string; steps: FunnelStep[] } | null> {
  const funnel = await getFunnelSteps(db, q.siteId, funnelId)
  if (!funnel) return null
  const rows = await prepared<{ visitor: string; started_at: string; at: number; steps: number[] }>(
    db,
    sql`
    with b as (${bucketsOf(q, null)}),
    s as (select u.n::int - 1 as step, g.name, g.event_type, g.page
            from unnest(${uuidArray(funnel.steps)}) with ordinality as u(goal_id, n)
            join ${goals} g on g.site_id = ${q.siteId} and g.goal_id = u.goal_id),
    v as (select v.visitor_id, v.anonymous, v.started_at, v.ended_at from ${visits} v, b
           where v.site_id = ${q.siteId} and v.started_at >= b.b0 and v.started_at < b.b1)
    select (v.anonymous::int || v.visitor_id) as visitor, v.started_at::text, extract(epoch from e.timestamp)::float8 * 1000 as at,
           array_agg(s.step order by s.step) as steps
      from ${events} e
      join v on v.visitor_id = ${visitorOf('e')} and v.anonymous = (e.user_id is null) and e.timestamp between v.started_at and v.ended_at
      join s on ${goalMatch('e', 's')}
     where e.site_id = ${q.siteId} and e.timestamp >= (select b0 from b) and e.timestamp <= (select max(ended_at) from v)
     group by v.visitor_id, v.anonymous, v.started_at, e.timestamp, e.event_id
     order by v.visitor_id, v.anonymous, v.started_at, e.timestamp, e.event_id`,
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
      conversion_rate: reachedBy[0] === 0 ? 0 : roundedRatio(1000 * reachedBy[step]!, reachedBy[0]!) / 10,
      dropoff: step === 0 ? 0 : reachedBy[step - 1]! - reachedBy[step]!,
    })),
  }
}
