import { sql } from 'drizzle-orm'
import { prepared, preparedStatement, type Db } from '../../drizzle/client'
import { rollupDayPaths, rollupDays, rollupDayTypes, rollupHourPaths, rollupHourTypes, sites } from '../../drizzle/schema'
import type { StatsNumbers } from './model'
import { assertExact, bucketTotals, countUsersByMask, dayMasks, parts, plan, type Question, type SiteDays } from './buckets'

/** Views, distinct users, top paths and event types of a range: the answer of GET /stats. */
export const TOP_PATHS_DEFAULT = 10

/** A range's stats and the zone its days are in. */
export type ZonedStats = StatsNumbers & { timezone: string }

/**
 * Views, distinct users, top paths and event types of one site over [from, to] in `tz` (whole
 * days of the site's zone for SiteDays). Ties in top paths are broken by path in byte order
 * (COLLATE "C"), whatever the server's locale.
 */
export async function getRangeStats(db: Db, q: SiteDays | Question, limit: number = TOP_PATHS_DEFAULT): Promise<ZonedStats> {
  if (!('tz' in q) || q.tz === q.rollupTz) return getSiteDaysStats(db, q, limit)
  await assertExact(db, q, null)
  const [[totals], topPaths, eventTypes] = await Promise.all([
    bucketTotals(db, q, null),
    prepared<{ path: string; views: number }>(
      db,
      sql`
      with ${plan(q, null)}
      select path, sum(views)::int as views
        from (${parts(q.siteId, sql`${rollupDayPaths}`, sql`${rollupHourPaths}`, sql`r.path, r.views`)}) p
       group by path order by views desc, path collate "C" asc limit ${limit}`,
    ),
    prepared<{ event_type: string; count: number }>(
      db,
      sql`
      with ${plan(q, null)}
      select event_type, sum(events)::int as count
        from (${parts(q.siteId, sql`${rollupDayTypes}`, sql`${rollupHourTypes}`, sql`r.event_type, r.events`)}) p
       group by event_type order by count desc, event_type collate "C" asc`,
    ),
  ])
  return {
    timezone: q.tz,
    total_views: totals?.views ?? 0,
    unique_users: totals?.unique_users ?? 0,
    top_paths: topPaths.map((row) => ({ path: row.path, views: row.views })),
    event_types: eventTypes.map((row) => ({ event_type: row.event_type, count: row.count })),
  }
}

type SiteDaysRow = { timezone: string; views: number; day_users: number; top_paths: StatsNumbers['top_paths']; event_types: StatsNumbers['event_types'] }

/** The statement behind getSiteDaysStats, for one day or several; its text is built once. */
function siteDaysStatement(oneDay: boolean) {
  const [siteId, from, to, limit] = (['siteId', 'from', 'to', 'limit'] as const).map((name) => sql.placeholder(name))
  const days = sql`site_id = ${siteId} and day between ${from}::date and ${to}::date`
  // One day's paths are read from the index in answer order, only the first `limit` of them.
  const topPaths = oneDay
    ? sql`select path, views from ${rollupDayPaths} where site_id = ${siteId} and day = ${from}::date
           order by views desc, path collate "C" asc limit ${limit}`
    : sql`select path, sum(views)::int as views from ${rollupDayPaths} where ${days}
           group by path order by views desc, path collate "C" asc limit ${limit}`
  return preparedStatement<SiteDaysRow>(sql`
    select coalesce((select rollup_timezone from ${sites} where site_id = ${siteId}), 'UTC') as timezone,
           t.views, t.day_users, p.top_paths, e.event_types
      from (select coalesce(sum(views), 0)::int as views, coalesce(max(users), 0)::int as day_users from ${rollupDays} where ${days}) t,
           (select coalesce(json_agg(json_build_object('path', path, 'views', views) order by views desc, path collate "C" asc), '[]') as top_paths
              from (${topPaths}) top) p,
           (select coalesce(json_agg(json_build_object('event_type', event_type, 'count', count) order by count desc, event_type collate "C" asc), '[]') as event_types
              from (select event_type, sum(events)::int as count from ${rollupDayTypes} where ${days} group by event_type) types) e`)
}

const oneSiteDay = siteDaysStatement(true)
const severalSiteDays = siteDaysStatement(false)

/**
 * The common question: whole days of the site's own zone. Every number is a read of the daily
 * rollups (one day's users included), and the zone is read with them, all in one statement; only
 * distinct users over several days scan the user day masks, as an index-only scan, beside it.
 */
async function getSiteDaysStats(db: Db, q: SiteDays, limit: number): Promise<ZonedStats> {
  const oneDay = q.from === q.to
  const summary = (oneDay ? oneSiteDay : severalSiteDays)(db, { siteId: q.siteId, from: q.from, to: q.to, limit }).then(([row]) => row!)
  const users = oneDay
    ? summary.then((row) => row.day_users)
    : countUsersByMask(
        db,
        q.siteId,
        dayMasks(q.from, q.to).map((mask) => ({ idx: 0, ...mask, hour_mask: null })),
      ).then((counts) => counts.get(0) ?? 0)
  const [row, distinctUsers] = await Promise.all([summary, users])
  return { timezone: row.timezone, total_views: row.views, unique_users: distinctUsers, top_paths: row.top_paths, event_types: row.event_types }
}
