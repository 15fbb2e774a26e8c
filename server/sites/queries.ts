import { sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import type { Db } from '../../drizzle/client'
import {
  events,
  ingestLedger,
  ingestRefusalHours,
  ingestRefusals,
  minuteUsers,
  pageVisitors,
  rollupDayPaths,
  rollupDays,
  rollupDayTypes,
  rollupHourPaths,
  rollupHours,
  rollupHourTypes,
  rollupMinutes,
  sites,
  userMonths,
  valueVisitors,
  visitDays,
  visits,
} from '../../drizzle/schema'
import { lockSite } from '../../lib/site-lock'

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

export type DeletedCounts = { events: number; visits: number; visit_figure_rows: number; rollup_rows: number; ledger_rows: number }

/** What deleting a site's data removes, by the count it is reported under. */
const SITE_DATA: Record<keyof DeletedCounts, PgTable[]> = {
  events: [events],
  visits: [visits],
  visit_figure_rows: [visitDays, valueVisitors],
  rollup_rows: [rollupHours, rollupDays, rollupHourPaths, rollupDayPaths, rollupHourTypes, rollupDayTypes, pageVisitors, userMonths, rollupMinutes, minuteUsers],
  ledger_rows: [ingestLedger, ingestRefusals, ingestRefusalHours],
}

/**
 * Deletes a site's events and everything computed from them or counted about them, in one
 * transaction under the site's lock: it waits for the batches and rebuild writing the site, and
 * holds back the next ones, so none can add to a rollup of events that are gone. The site's
 * settings (its timezone, goals and funnels) are kept: they describe the site, not its data.
 */
export async function deleteSiteData(db: Db, siteId: string): Promise<DeletedCounts> {
  return db.transaction(async (tx) => {
    // A busy site's millions of events take longer than the API's statement limit to delete, and a
    // rebuild of the site may hold its lock longer than that.
    await tx.execute(sql`set local statement_timeout = 0`)
    await tx.execute(lockSite(siteId))
    const counts = { events: 0, visits: 0, visit_figure_rows: 0, rollup_rows: 0, ledger_rows: 0 }
    for (const [name, tables] of Object.entries(SITE_DATA) as [keyof DeletedCounts, PgTable[]][]) {
      for (const table of tables) counts[name] += (await tx.execute(sql`delete from ${table} where site_id = ${siteId}`)).count
    }
    await tx.execute(sql`update ${sites} set first_event_at = null, last_event_at = null where site_id = ${siteId}`)
    return counts
  })
}
