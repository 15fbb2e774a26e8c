/**
 * Visit figures per day, property and value (visit_days) and which identified visitors each value
 * had per month (value_visitors), kept from the visits a batch adds and removes and the page views
 * it wrote, inside the batch's transaction. Reports over whole days of a site's zone read these
 * instead of the visits. The rebuild recomputes both from the visits and the raw events.
 */
import { sql, type SQL } from 'drizzle-orm'
import { jsonLiteral } from '../../drizzle/client'
import { sites, valueVisitors, visitDays, visits } from '../../drizzle/schema'
import { ALL_VISITS, NOT_SET, onlyWhenSet, PAGE_VIEWS, VISIT_PROPERTIES, visitValueSql, type VisitProperty } from '../../lib/visit-properties'
import { key, type WrittenEvent } from '../rollups/deltas'
import { VISIT_PROPERTY_COLUMNS } from './postgres'
import type { Visit, VisitChanges } from './merge'

/** The (property, value) pairs a visit of row `v` is counted under, as a lateral VALUES list `pv(property, value)`; null values are left out. */
const pairsOf = (v: string) =>
  sql.raw(`(values ('${ALL_VISITS}', ''), ${VISIT_PROPERTIES.map((p) => `('${p}', ${visitValueSql(v, p)})`).join(', ')}) as pv(property, value)`)

/** Day d of a month (a date) as its bit in value_visitors.days, and the month's first day. */
const dayBit = (day: string) => sql.raw(`(1 << (extract(day from ${day})::int - 1))`)
const monthOf = (day: string) => sql.raw(`(${day} - (extract(day from ${day})::int - 1))`)

const visitColumns = sql.raw(
  [
    'site_id text',
    'visitor_id text',
    'anonymous boolean',
    'started_at timestamptz',
    'sign int',
    'events int',
    'views int',
    'duration_ms bigint',
    'known text[]',
    'entry_page text',
    'exit_page text',
  ]
    .concat(VISIT_PROPERTY_COLUMNS.map((column) => `${column} text`))
    .join(', '),
)

/** A visit as visitRollupStatement reads it; `known` lists the properties whose value its visitor is already counted under that day. */
const visitRow = (visit: Visit, sign: 1 | -1, known?: string[]) => ({
  ...visit,
  known,
  started_at: new Date(visit.started_at).toISOString(),
  ended_at: undefined,
  first_event_id: undefined,
  last_event_id: undefined,
  sign,
  duration_ms: visit.ended_at - visit.started_at,
})

/** A batch's page views per site, day, page and visitor (anonymous ones are visitors of their own). */
export function pageViewsOf(written: readonly WrittenEvent[]) {
  const rows = new Map<string, { site_id: string; day: string; path: string; visitor_id: string; anonymous: boolean; views: number }>()
  for (const row of written) {
    if (row.event_type !== 'page_view') continue
    const visitor = row.user_id ?? row.event.eventId
    const k = `${row.site_id}\u0000${row.day}\u0000${row.path}\u0000${visitor}\u0000${row.user_id === null}`
    const found = rows.get(k)
    if (found) found.views++
    else rows.set(k, { site_id: row.site_id, day: row.day, path: row.path, visitor_id: visitor, anonymous: row.user_id === null, views: 1 })
  }
  return [...rows.values()]
}
export type PageViewRow = ReturnType<typeof pageViewsOf>[number]

/**
 * Adds the changed visits (removed ones with sign -1) and the page views to visit_days, and sets
 * the day bits of the added visits and page views in value_visitors; a bit set for the first time
 * is one more visitor of that day and value. Runs after the visits themselves are written.
 */
export function visitRollupStatement(changes: VisitChanges, pages: readonly PageViewRow[]): SQL | null {
  if (changes.added.length === 0 && changes.removed.length === 0 && pages.length === 0) return null
  const before = new Map([...replacements(changes)].map(([removed, added]) => [added, removed]))
  const rows = [
    ...changes.removed.map((visit) => visitRow(visit, -1)),
    ...changes.added.map((visit) => {
      const replaced = before.get(visit)
      return visitRow(
        visit,
        1,
        replaced && PROPERTIES.filter((property) => valueOf(visit, property) !== null && valueOf(visit, property) === valueOf(replaced, property)),
      )
    }),
  ]
  return sql`
    with changed as (
      select r.*, (r.started_at at time zone s.rollup_timezone)::date as day, md5(r.visitor_id)::uuid as visitor_key
        from json_to_recordset(${jsonLiteral(rows)}) as r(${visitColumns}) join ${sites} s using (site_id)
    ), counted as (
      select c.site_id, pv.property, c.day, pv.value, c.visitor_key, c.anonymous, c.sign, coalesce(pv.property = any(c.known), false) as known, c.sign as visits,
             case when c.events = 1 then c.sign else 0 end as bounces, c.sign * c.duration_ms as duration_ms, c.sign * c.views as views
        from changed c cross join lateral ${pairsOf('c')} where pv.value is not null
      union all
      select site_id, '${sql.raw(PAGE_VIEWS)}', day, path, md5(visitor_id)::uuid, anonymous, 1, false, 0, 0, 0, views
        from json_to_recordset(${jsonLiteral(pages)}) as p(site_id text, day date, path text, visitor_id text, anonymous boolean, views int)
    ), seen as (
      -- The days and values the batch gives identified visitors; MD5s once per distinct value (they cost more than the rest).
      select s.*, k.value_key, ${monthOf('s.day')} as month, ${dayBit('s.day')} as bit
        from (select distinct site_id, property, day, value, visitor_key from counted where sign > 0 and not anonymous and not known) s
        join (select value, md5(value)::uuid as value_key from counted group by value) k using (value)
    ), grouped as (
      select site_id, property, month, value_key, visitor_key, bit_or(bit) as days from seen group by 1, 2, 3, 4, 5
    ), several as (
      -- A visitor given several days of one value and month (rare): the new ones, from the row as it was before this statement.
      select g.site_id, g.property, g.month, g.value_key,
             g.days & ~coalesce((select vv.days from ${valueVisitors} vv
                                  where vv.site_id = g.site_id and vv.property = g.property and vv.month = g.month
                                    and vv.value_key = g.value_key and vv.visitor_key = g.visitor_key), 0) as new_days
        from grouped g where g.days & (g.days - 1) <> 0
    ), marked as (
      -- Written only when a day is new; \`marked\` returns the days written, so a row given one day needs no read first.
      insert into ${valueVisitors} as vv (site_id, property, month, value_key, visitor_key, days, marked)
      select site_id, property, month, value_key, visitor_key, days, days from grouped
       order by site_id, property, month, value_key, visitor_key
      on conflict (site_id, property, month, value_key, visitor_key) do update set days = vv.days | excluded.days, marked = excluded.days
       where vv.days & excluded.days <> excluded.days
      returning site_id, property, month, value_key, marked
    ), fresh as (
      -- New visitors per day and value; bit n of a month is its day n + 1.
      select site_id, property, month + (31 - length(rtrim(marked::bit(31)::text, '0'))) as day, value_key
        from marked where marked & (marked - 1) = 0
      union all
      select s.site_id, s.property, s.month + n, s.value_key
        from several s cross join lateral (select n from generate_series(0, 30) n where (s.new_days >> n) & 1 = 1) b
    )
    insert into ${visitDays} as d (site_id, property, day, value_key, value, visits, visitors, anonymous, bounces, duration_ms, views)
    select site_id, property, day, value_key, max(value), sum(visits), sum(visitors), sum(anonymous), sum(bounces), sum(duration_ms), sum(views)
      from (
        select site_id, property, day, md5(value)::uuid as value_key, value, sum(visits) as visits,
               sum(case when anonymous then sign else 0 end) as visitors, sum(case when anonymous then sign else 0 end) as anonymous,
               sum(bounces) as bounces, sum(duration_ms) as duration_ms, sum(views) as views
          from counted group by site_id, property, day, value
        union all
        select site_id, property, day, value_key, null, 0, count(*), 0, 0, 0, 0 from fresh group by site_id, property, day, value_key
      ) x
     group by site_id, property, day, value_key
     order by site_id, property, day, value_key
    on conflict (site_id, property, day, value_key) do update set
      visits = d.visits + excluded.visits, visitors = d.visitors + excluded.visitors, anonymous = d.anonymous + excluded.anonymous,
      bounces = d.bounces + excluded.bounces, duration_ms = d.duration_ms + excluded.duration_ms, views = d.views + excluded.views`
}

/** What a visit counts under for a property, as pairsOf has it: null when it does not count (a missing campaign tag). */
function valueOf(visit: Visit, property: string): string | null {
  if (property === ALL_VISITS) return ''
  const value = visit[property as VisitProperty]
  return onlyWhenSet(property as VisitProperty) ? value : (value ?? NOT_SET)
}
const PROPERTIES = [ALL_VISITS, ...VISIT_PROPERTIES]

/** Removed visits and the visit added with the same visitor and start (an extended one), when there is one: they share a day. */
function replacements({ removed, added }: VisitChanges): Map<Visit, Visit> {
  const byStart = new Map(added.map((visit) => [key(visit.site_id, visit.visitor_id, visit.started_at), visit]))
  const pairs = new Map<Visit, Visit>()
  for (const visit of removed) {
    const same = byStart.get(key(visit.site_id, visit.visitor_id, visit.started_at))
    if (same) pairs.set(visit, same)
  }
  return pairs
}

/**
 * The values the removed visits had on their days that the changes may have taken from their
 * visitors: all of a removed visit's, except those of a visit added in its place with the same
 * start (an extended visit keeps its day and every property but the exit page).
 */
export function possiblyLost(changes: VisitChanges) {
  const replaced = replacements(changes)
  return changes.removed
    .filter((visit) => !visit.anonymous)
    .flatMap((visit) => {
      const kept = replaced.get(visit)
      return PROPERTIES.flatMap((property) => {
        const value = valueOf(visit, property)
        if (value === null || (kept && valueOf(kept, property) === value)) return []
        return [{ site_id: visit.site_id, visitor_id: visit.visitor_id, started_at: new Date(visit.started_at).toISOString(), property, value }]
      })
    })
}

/** A visit's value for the property named by `property` (SQL text), as pairsOf gives it. */
const valueIn = (v: string, property: string) =>
  sql.raw(`case ${property} when '${ALL_VISITS}' then '' ${VISIT_PROPERTIES.map((p) => `when '${p}' then ${visitValueSql(v, p)}`).join(' ')} end`)

/**
 * After the visits are written: of the values possiblyLost lists, those no visit of that visitor
 * has on that day any more lose that visitor (its day bit is cleared, the day's visitors go down
 * by one each). Each is one look at the visitor's visits of that day.
 */
export function clearedVisitorsStatement(changes: VisitChanges): SQL | null {
  const lost = possiblyLost(changes)
  if (lost.length === 0) return null
  const visitKey = sql`(v.visitor_id, v.site_id, v.anonymous, v.started_at)`
  return sql`
    with lost as (
      select l.*, (l.started_at at time zone s.rollup_timezone)::date as day, s.rollup_timezone as tz
        from json_to_recordset(${jsonLiteral(lost)}) as l(site_id text, visitor_id text, started_at timestamptz, property text, value text)
        join ${sites} s using (site_id)
    ), gone as (
      select distinct l.site_id, l.visitor_id, l.day, l.property, l.value from lost l
       where not exists (
         -- Bounds on the whole primary key: a range of that index, whatever the planner estimates.
         select from ${visits} v
          where ${visitKey} >= (l.visitor_id, l.site_id, false, l.day::timestamp at time zone l.tz)
            and ${visitKey} < (l.visitor_id, l.site_id, false, (l.day + 1)::timestamp at time zone l.tz)
            and ${valueIn('v', 'l.property')} = l.value)
    ), unmarked as (
      update ${valueVisitors} vv set days = vv.days & ~g.days
        from (select site_id, property, ${monthOf('day')} as month, md5(value)::uuid as value_key, md5(visitor_id)::uuid as visitor_key, bit_or(${dayBit('day')}) as days
                from gone group by 1, 2, 3, 4, 5) g
       where vv.site_id = g.site_id and vv.property = g.property and vv.month = g.month and vv.value_key = g.value_key and vv.visitor_key = g.visitor_key
    )
    -- Per row of visit_days: an update meets each row once, however many visitors it loses.
    update ${visitDays} d set visitors = d.visitors - g.visitors
      from (select site_id, property, day, md5(value)::uuid as value_key, count(*)::int as visitors from gone group by 1, 2, 3, 4) g
     where d.site_id = g.site_id and d.property = g.property and d.day = g.day and d.value_key = g.value_key`
}

/** Recomputes a site's visit_days and value_visitors in zone `tz`, from its visits (rebuilt first) and page views. */
export async function rebuildVisitRollups(tx: { execute: (query: SQL) => Promise<unknown> }, siteId: string, tz: string): Promise<void> {
  await tx.execute(sql`delete from ${visitDays} where site_id = ${siteId}`)
  await tx.execute(sql`delete from ${valueVisitors} where site_id = ${siteId}`)
  await tx.execute(sql`
    with counted as materialized (
      select pv.property, (v.started_at at time zone ${tz})::date as day, pv.value, v.visitor_id, v.anonymous, 1 as visits,
             (v.events = 1)::int as bounces, (extract(epoch from v.ended_at - v.started_at) * 1000)::bigint as duration_ms, v.views
        from ${visits} v cross join lateral ${pairsOf('v')} where v.site_id = ${siteId} and pv.value is not null
      union all
      select ${PAGE_VIEWS}, (timestamp at time zone ${tz})::date, path, coalesce(user_id, event_id), user_id is null, 0, 0, 0, 1
        from events where site_id = ${siteId} and event_type = 'page_view'
    ), marked as (
      insert into ${valueVisitors} (site_id, property, month, value_key, visitor_key, days)
      select ${siteId}, property, ${monthOf('day')}, md5(value)::uuid, md5(visitor_id)::uuid, bit_or(${dayBit('day')})
        from counted where not anonymous group by 2, 3, 4, 5
    )
    insert into ${visitDays} (site_id, property, day, value_key, value, visits, visitors, anonymous, bounces, duration_ms, views)
    select ${siteId}, property, day, md5(value)::uuid, min(value), sum(visits), count(distinct visitor_id) filter (where not anonymous) + count(*) filter (where anonymous),
           count(*) filter (where anonymous), sum(bounces), sum(duration_ms), sum(views)
      from counted group by property, day, md5(value)::uuid`)
}
