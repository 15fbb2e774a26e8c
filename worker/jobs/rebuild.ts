import { UnrecoverableError, type Job } from 'bullmq'
import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import type { Logger } from '../../lib/log'
import type { RebuildJobData } from '../../lib/queue'
import { lockSite } from '../../lib/site-lock'
import {
  eventRetention,
  pageVisitors,
  rollupDayPaths,
  rollupDays,
  rollupDayTypes,
  rollupHourPaths,
  rollupHours,
  rollupHourTypes,
  sites,
  userDayBit,
  userHourBit,
  userMonths,
} from '../../drizzle/schema'
import { bucketColumns } from '../rollups/postgres'
import { rebuildVisits } from '../visits/postgres'
import { rebuildVisitRollups } from '../visits/rollups'

/** Statements a rebuild runs, for its progress. */
const REBUILD_STEPS = 12

export interface RebuildRange {
  /** Inclusive calendar dates in the site's rollup timezone. */
  from: string
  to: string
}

export interface RebuildResult {
  siteId: string
  timezone: string
  /** The whole months (of the rollup timezone) that were recomputed, or null for all time. */
  months: { from: string; to: string } | null
  events: number
}

/**
 * Recomputes a site's rollups and visits from its raw events, idempotently. It holds the site's exclusive
 * lock, which waits for the jobs writing that site and holds back new ones, so ingestion can go on
 * and nothing is counted twice or missed. A range is widened to whole months (the user bitmaps
 * are per month); without one, everything is rebuilt in the site's configured timezone, which
 * is how a timezone change takes effect.
 */
export async function rebuildRollups(db: Db, siteId: string, range?: RebuildRange, onProgress: (percent: number) => unknown = () => {}): Promise<RebuildResult> {
  // The rebuild is one transaction, so its progress is the share of its statements done.
  let done = 0
  const step = async () => onProgress(Math.round((++done / REBUILD_STEPS) * 100))
  return db.transaction(async (tx) => {
    await tx.execute(lockSite(siteId))
    const [site] = await tx.execute<{ timezone: string; rollup_timezone: string; first_event_at: string | null; dropped_before: string | null }>(
      sql`select timezone, rollup_timezone, to_json(first_event_at) #>> '{}' as first_event_at,
                 (select to_json(dropped_before) #>> '{}' from ${eventRetention}) as dropped_before
            from ${sites} where site_id = ${siteId} for update of ${sites}`,
    )
    if (!site) throw new Error(`unknown site ${siteId}`)
    refuseDroppedMonths(siteId, site)
    // A partial rebuild keeps the zone the other months are bucketed in.
    const tz = range ? site.rollup_timezone : site.timezone

    let window = sql`true`
    let months: RebuildResult['months'] = null
    let dayFilter = sql`true`
    let hourFilter = sql`true`
    let monthFilter = sql`true`
    if (range) {
      const [bounds] = await tx.execute<{ first_month: string; last_month: string; start: string; end: string }>(sql`
        select date_trunc('month', ${range.from}::date)::date::text as first_month,
               date_trunc('month', ${range.to}::date)::date::text as last_month,
               (date_trunc('month', ${range.from}::date)::timestamp at time zone ${tz})::text as start,
               ((date_trunc('month', ${range.to}::date) + interval '1 month')::timestamp at time zone ${tz})::text as end`)
      months = { from: bounds!.first_month, to: bounds!.last_month }
      window = sql`timestamp >= ${bounds!.start}::timestamptz and timestamp < ${bounds!.end}::timestamptz`
      hourFilter = sql`hour >= ${bounds!.start}::timestamptz and hour < ${bounds!.end}::timestamptz`
      dayFilter = sql`day >= ${bounds!.first_month}::date and day < (${bounds!.last_month}::date + interval '1 month')`
      monthFilter = sql`month >= ${bounds!.first_month}::date and month <= ${bounds!.last_month}::date`
    }

    for (const [table, filter] of [
      [rollupHours, hourFilter],
      [rollupHourPaths, hourFilter],
      [pageVisitors, hourFilter],
      [rollupHourTypes, hourFilter],
      [rollupDays, dayFilter],
      [rollupDayPaths, dayFilter],
      [rollupDayTypes, dayFilter],
      [userMonths, monthFilter],
    ] as const) {
      await tx.execute(sql`delete from ${table} where site_id = ${siteId} and ${filter}`)
    }
    await step()

    const source = sql`(select event_id, event_type, path, user_id, ${bucketColumns(sql`timestamp`, tz)}
                          from events where site_id = ${siteId} and ${window}) e`
    const [{ events } = { events: 0 }] = await tx.execute<{ events: number }>(sql`
      with inserted as (
        insert into ${rollupHours} (site_id, hour, views, events, users)
        select ${siteId}, hour, count(*) filter (where event_type = 'page_view'), count(*), count(distinct user_id)
          from ${source} group by hour
        returning events)
      select coalesce(sum(events), 0)::int as events from inserted`)
    await step()
    await tx.execute(sql`
      insert into ${rollupDays} (site_id, day, views, events, users)
      select ${siteId}, day, count(*) filter (where event_type = 'page_view'), count(*), count(distinct user_id)
        from ${source} group by day`)
    await step()
    await tx.execute(sql`
      insert into ${rollupHourPaths} (site_id, hour, path, views)
      select ${siteId}, hour, path, count(*) from ${source} where event_type = 'page_view' group by hour, path`)
    await step()
    await tx.execute(sql`
      insert into ${pageVisitors} (site_id, hour, path_key, visitor_key, anonymous, path)
      select distinct ${siteId}, hour, md5(path)::uuid, md5(coalesce(user_id, event_id))::uuid, user_id is null, path
        from ${source} where event_type = 'page_view'`)
    await step()
    await tx.execute(sql`
      insert into ${rollupDayPaths} (site_id, day, path, views)
      select ${siteId}, day, path, count(*) from ${source} where event_type = 'page_view' group by day, path`)
    await step()
    await tx.execute(sql`
      insert into ${rollupHourTypes} (site_id, hour, event_type, events)
      select ${siteId}, hour, event_type, count(*) from ${source} group by hour, event_type`)
    await step()
    await tx.execute(sql`
      insert into ${rollupDayTypes} (site_id, day, event_type, events)
      select ${siteId}, day, event_type, count(*) from ${source} group by day, event_type`)
    await step()
    await tx.execute(sql`
      insert into ${userMonths} (site_id, month, user_id, days, hours)
      select ${siteId}, month, user_id, bit_or(${userDayBit(sql`day_index`)}), bit_or(${userHourBit(sql`hour_index`)})
        from ${source} where user_id is not null group by month, user_id`)
    await step()
    await rebuildVisits(tx, siteId)
    await step()
    await rebuildVisitRollups(tx, siteId, tz)
    await step()
    await tx.execute(sql`
      update ${sites} set rollup_timezone = ${tz},
             first_event_at = (select min(timestamp) from events where site_id = ${siteId}),
             last_event_at = (select max(timestamp) from events where site_id = ${siteId})
       where site_id = ${siteId}`)
    await step()
    return { siteId, timezone: tz, months, events }
  })
}

/** A rebuild that would wipe rollups whose raw events retention has dropped: recounting them would lose them. */
export class RawEventsDroppedError extends Error {
  override name = 'RawEventsDroppedError'
}

/**
 * Refuses to rebuild a site that had events before the raw events kept: a rebuild deletes what it
 * recomputes, and recomputes the site's visits and their figures from its whole history whatever
 * the range, so those months would come back empty.
 */
function refuseDroppedMonths(siteId: string, site: { first_event_at: string | null; dropped_before: string | null }): void {
  if (site.dropped_before === null || site.first_event_at === null) return
  const droppedBefore = new Date(site.dropped_before)
  if (new Date(site.first_event_at) >= droppedBefore) return
  throw new RawEventsDroppedError(
    `not rebuilding ${siteId}: its raw events before ${droppedBefore.toISOString().slice(0, 10)} (UTC) were dropped by RAW_RETENTION_DAYS, ` +
      'and a rebuild recomputes the visits of its whole history, so the rollups and visits of those months would be lost; they are kept as they are',
  )
}

/** Handles rebuild jobs (queued by PUT /sites/:id). */
export function createRebuildHandler(deps: { db: Db; log: Logger }) {
  return async (job: Job<RebuildJobData>): Promise<RebuildResult> => {
    if (typeof job.data?.siteId !== 'string') throw new UnrecoverableError('rebuild job data has no site id')
    const { siteId, range } = job.data
    deps.log.info('rebuilding rollups', { jobId: job.id, siteId, ...range })
    const result = await rebuildRollups(deps.db, siteId, range, (percent) => job.updateProgress(percent)).catch((error) => {
      // No retry can bring the dropped events back.
      throw error instanceof RawEventsDroppedError ? new UnrecoverableError(error.message) : error
    })
    deps.log.info('rollups rebuilt', { jobId: job.id, ...result })
    return result
  }
}
