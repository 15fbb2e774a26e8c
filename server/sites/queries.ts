import { sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import type { Db } from '../../drizzle/client'
import {
  eventIds,
  eventRetention,
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

/** The first instant of raw events kept (retention drops the months before it), or null while none were dropped. */
export async function rawEventsDroppedBefore(db: Db): Promise<Date | null> {
  const [row] = await db.execute<{ dropped_before: string }>(sql`select to_json(dropped_before) #>> '{}' as dropped_before from ${eventRetention}`)
  return row ? new Date(row.dropped_before) : null
}

/** Why the site's timezone cannot change (its rebuild would lose months whose raw events were dropped), or undefined. */
export async function timezoneChangeRefusal(db: Db, siteId: string): Promise<string | undefined> {
  const [row] = await db.execute<{ dropped_before: string }>(sql`
    select to_json(r.dropped_before) #>> '{}' as dropped_before from ${eventRetention} r join ${sites} s on s.first_event_at < r.dropped_before
     where s.site_id = ${siteId}`)
  if (!row) return undefined
  return `the timezone of ${siteId} cannot change: its raw events before ${row.dropped_before.slice(0, 10)} (UTC) were dropped by RAW_RETENTION_DAYS, and the rollups of those months cannot be recomputed in another zone`
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
    // The idempotency keys go too, so the site's events can be sent again (they are not counted: each was an event).
    await tx.execute(sql`delete from ${eventIds} where site_id = ${siteId}`)
    await tx.execute(sql`update ${sites} set first_event_at = null, last_event_at = null where site_id = ${siteId}`)
    return counts
  })
}
