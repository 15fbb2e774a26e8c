import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import type { DailyStats } from './model'

export const TOP_PATHS_LIMIT = 10

/** Today's date in UTC as YYYY-MM-DD. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10)
}

/** [start, end) of a UTC calendar day given as YYYY-MM-DD. */
function utcDayBounds(day: string): [string, string] {
  const start = new Date(`${day}T00:00:00Z`)
  return [start.toISOString(), new Date(start.getTime() + 86_400_000).toISOString()]
}

/**
 * Views, distinct users and the top paths of one site on one UTC day. Ties in top paths are
 * broken by path in byte order (COLLATE "C"), which does not depend on the server's locale.
 */
export async function getDailyStats(db: Db, siteId: string, day: string): Promise<DailyStats> {
  const [start, end] = utcDayBounds(day)
  const [totals] = await db.execute<{ total_views: number; unique_users: number }>(sql`
    select count(*) filter (where event_type = 'page_view')::int as total_views,
           count(distinct user_id)::int as unique_users
      from events
     where site_id = ${siteId} and timestamp >= ${start}::timestamptz and timestamp < ${end}::timestamptz`)
  const topPaths = await db.execute<{ path: string; views: number }>(sql`
    select path, count(*)::int as views
      from events
     where site_id = ${siteId} and event_type = 'page_view' and timestamp >= ${start}::timestamptz and timestamp < ${end}::timestamptz
     group by path
     order by views desc, path collate "C" asc
     limit ${TOP_PATHS_LIMIT}`)
  return {
    site_id: siteId,
    date: day,
    total_views: totals?.total_views ?? 0,
    unique_users: totals?.unique_users ?? 0,
    top_paths: topPaths.map((row) => ({ path: row.path, views: row.views })),
  }
}
