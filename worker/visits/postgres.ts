/**
 * Keeps the visits table in step with the events a batch wrote, inside the batch's transaction:
 * one statement reads the stored visits the new events can touch, merge.ts works out the changes,
 * and two statements apply them. Transactions hold their sites' locks exclusively, so no other
 * writer changes those visits in between.
 */
import { sql, type SQL } from 'drizzle-orm'
import { jsonLiteral } from '../../drizzle/client'
import { visits } from '../../drizzle/schema'
import { key } from '../rollups/deltas'
import { mergeVisits, VISIT_GAP_MS, type Visit, type VisitChanges } from './merge'

const PROPERTY_COLUMNS = {
  referrer: 'text',
  source: 'text',
  channel: 'text',
  utm_source: 'text',
  utm_medium: 'text',
  utm_campaign: 'text',
  utm_content: 'text',
  utm_term: 'text',
  browser: 'text',
  os: 'text',
  device: 'text',
  country: 'text',
} as const
/** The columns a visit takes from its first event. */
export const VISIT_PROPERTY_COLUMNS = Object.keys(PROPERTY_COLUMNS)
const COLUMNS: Record<keyof Visit, string> = {
  site_id: 'text',
  visitor_id: 'text',
  anonymous: 'boolean',
  started_at: 'timestamptz',
  ended_at: 'timestamptz',
  first_event_id: 'text',
  last_event_id: 'text',
  events: 'int',
  views: 'int',
  entry_page: 'text',
  exit_page: 'text',
  ...PROPERTY_COLUMNS,
}
const names = Object.keys(COLUMNS) as (keyof Visit)[]
const columnList = sql.raw(names.map((name) => `"${name}"`).join(', '))
const recordType = sql.raw(names.map((name) => `"${name}" ${COLUMNS[name]}`).join(', '))
const selectStored = sql.raw(
  names.map((name) => (COLUMNS[name] === 'timestamptz' ? `(extract(epoch from v."${name}") * 1000)::float8 as "${name}"` : `v."${name}"`)).join(', '),
)

/** A batch's new visits (one per written event) by visitor: identified visitors only, as anonymous events never merge. */
function byVisitor(newVisits: readonly Visit[]): Map<string, Visit[]> {
  const groups = new Map<string, Visit[]>()
  for (const visit of newVisits) {
    if (visit.anonymous) continue
    const k = key(visit.site_id, visit.visitor_id)
    const list = groups.get(k)
    if (list) list.push(visit)
    else groups.set(k, [visit])
  }
  return groups
}

/**
 * Reads the stored visits within the gap of any new event: for each visitor, those that start in
 * [first - gap, last + gap], and the one before that window when it reaches into it (visits do
 * not overlap, so no other can). Null when the batch has no identified visitor.
 */
export function storedVisitsQuery(newVisits: readonly Visit[]): SQL | null {
  const windows = [...byVisitor(newVisits).values()].map((list) => {
    let first = Number.POSITIVE_INFINITY
    let last = Number.NEGATIVE_INFINITY
    for (const visit of list) {
      first = Math.min(first, visit.started_at)
      last = Math.max(last, visit.started_at)
    }
    return {
      site_id: list[0]!.site_id,
      visitor_id: list[0]!.visitor_id,
      lo: new Date(first - VISIT_GAP_MS).toISOString(),
      hi: new Date(last + VISIT_GAP_MS).toISOString(),
    }
  })
  if (windows.length === 0) return null
  // Bounds on the whole primary key, as row comparisons, so the lookup is a range of that index.
  const key = sql`(v.visitor_id, v.site_id, v.anonymous, v.started_at)`
  const at = (bound: SQL) => sql`(w.visitor_id, w.site_id, false, ${bound})`
  return sql`
    select ${selectStored}
      from json_to_recordset(${jsonLiteral(windows)}) as w(site_id text, visitor_id text, lo timestamptz, hi timestamptz)
      cross join lateral (
        (select * from ${visits} v where ${key} < ${at(sql`w.lo`)} and ${key} >= ${at(sql`'-infinity'::timestamptz`)}
          order by v.visitor_id desc, v.site_id desc, v.anonymous desc, v.started_at desc limit 1)
        union all
        (select * from ${visits} v where ${key} >= ${at(sql`w.lo`)} and ${key} <= ${at(sql`w.hi`)})
      ) v
     where v.ended_at >= w.lo`
}

/** What the new visits change, given what storedVisitsQuery read: anonymous visits are only ever added. */
export function visitChanges(newVisits: readonly Visit[], stored: readonly Visit[]): VisitChanges {
  const storedBy = Map.groupBy(stored, (visit) => key(visit.site_id, visit.visitor_id))
  const changes: VisitChanges = { removed: [], added: newVisits.filter((visit) => visit.anonymous) }
  for (const [k, list] of byVisitor(newVisits)) {
    const merged = mergeVisits(storedBy.get(k) ?? [], list)
    changes.removed.push(...merged.removed)
    changes.added.push(...merged.added)
  }
  return changes
}

/** The statements that bring the visits table up to date with the changes. */
export function visitWrites({ removed, added }: VisitChanges): SQL[] {
  const statements: SQL[] = []
  if (removed.length > 0) {
    const keys = removed.map((visit) => ({
      site_id: visit.site_id,
      visitor_id: visit.visitor_id,
      anonymous: visit.anonymous,
      started_at: new Date(visit.started_at).toISOString(),
    }))
    statements.push(sql`
      delete from ${visits} v using json_to_recordset(${jsonLiteral(keys)}) as k(site_id text, visitor_id text, anonymous boolean, started_at timestamptz)
       where v.site_id = k.site_id and v.visitor_id = k.visitor_id and v.anonymous = k.anonymous and v.started_at = k.started_at`)
  }
  if (added.length > 0) {
    const rows = added.map((visit) => ({ ...visit, started_at: new Date(visit.started_at).toISOString(), ended_at: new Date(visit.ended_at).toISOString() }))
    statements.push(sql`insert into ${visits} (${columnList}) select * from json_to_recordset(${jsonLiteral(rows)}) as r(${recordType})`)
  }
  return statements
}

/**
 * Recomputes a site's visits from its raw events: the same visits merge.ts builds event by event,
 * here with window functions. Always all of them, even for a rebuild of some months: a visit can
 * cross any bound, and cutting the recount at one would split or lose visits there.
 */
export async function rebuildVisits(tx: { execute: (query: SQL) => Promise<unknown> }, siteId: string): Promise<void> {
  await tx.execute(sql`delete from ${visits} where site_id = ${siteId}`)
  const ordered = sql`order by timestamp, event_id collate "C"`
  const first = (column: string) => sql.raw(`(array_agg("${column}" order by timestamp, event_id collate "C"))[1]`)
  await tx.execute(sql`
    insert into ${visits} (${columnList})
    with e as (
      select *, coalesce(user_id, event_id) as visitor_id, user_id is null as anonymous,
             case when user_id is null or timestamp - lag(timestamp) over (partition by user_id ${ordered}) > interval '30 minutes'
                    or lag(timestamp) over (partition by user_id ${ordered}) is null then 1 else 0 end as starts
        from events where site_id = ${siteId}
    ), numbered as (
      select *, sum(starts) over (partition by anonymous, visitor_id ${ordered}) as visit_no from e
    )
    select ${siteId}, visitor_id, anonymous, min(timestamp), max(timestamp), ${first('event_id')},
           (array_agg(event_id order by timestamp desc, event_id collate "C" desc))[1],
           count(*)::int, (count(*) filter (where event_type = 'page_view'))::int, ${first('path')},
           (array_agg(path order by timestamp desc, event_id collate "C" desc))[1],
           ${sql.join(
             VISIT_PROPERTY_COLUMNS.map((column) => first(column)),
             sql`, `,
           )}
      from numbered group by visitor_id, anonymous, visit_no`)
}
