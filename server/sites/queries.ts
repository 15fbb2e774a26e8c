import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { rollupDays, sites } from '../../drizzle/schema'

export type SiteSummary = {
  site_id: string
  timezone: string
  rollup_timezone: string
  first_event_at: string | null
  last_event_at: string | null
  total_events: number
  total_views: number
}

/** The known sites (every one, or those of `only`) with zone, first and last event, and totals (from the daily rollups). */
export async function getSites(db: Db, only: 'all' | ReadonlySet<string> = 'all'): Promise<SiteSummary[]> {
  if (only !== 'all' && only.size === 0) return []
  const rows = await db.execute<SiteSummary>(sql`
    select s.site_id, s.timezone, s.rollup_timezone,
           to_json(s.first_event_at) #>> '{}' as first_event_at, to_json(s.last_event_at) #>> '{}' as last_event_at,
           coalesce(sum(d.events), 0)::float8 as total_events, coalesce(sum(d.views), 0)::float8 as total_views
      from ${sites} s left join ${rollupDays} d on d.site_id = s.site_id
     ${only === 'all' ? sql`` : sql`where s.site_id in ${[...only]}`}
     group by s.site_id
     order by s.site_id`)
  return rows.map((row) => ({
    ...row,
    first_event_at: row.first_event_at && new Date(row.first_event_at).toISOString(),
    last_event_at: row.last_event_at && new Date(row.last_event_at).toISOString(),
  }))
}

/** Records the site's timezone (creating the site if new); the rollups follow after a rebuild. */
export async function setSiteTimezone(db: Db, siteId: string, timezone: string): Promise<void> {
  await db.execute(sql`
    insert into ${sites} (site_id, timezone) values (${siteId}, ${timezone})
    on conflict (site_id) do update set timezone = excluded.timezone`)
}
