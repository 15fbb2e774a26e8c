import { sql } from 'drizzle-orm'
import { jsonLiteral, type Db } from '../../drizzle/client'
import { events, ingestLedger, sites } from '../../drizzle/schema'
import { applyRollups, bucketColumns, key, pipelined, siteLockStatements, type Buckets, type WrittenEvent } from './rollups'
import type { QueuedEvent } from '../../lib/queue'

export interface BatchWriteResult {
  inserted: number
  duplicates: number
}

const MINUTE_MS = 60_000

/**
 * Writes a batch in one transaction: the raw rows, then the rollups and the ledger from the rows
 * that insert actually wrote. The whole batch travels as one JSON parameter expanded by
 * json_to_recordset, so the statement is the same for any batch size and never meets Postgres's
 * bind-parameter limit. Rows whose (site_id, event_id) already exist are skipped, so a retried
 * job or a repeated client event_id is stored, and counted, once.
 *
 * The insert sends back only what the worker does not already hold: how many rows it wrote
 * (their ids only when some were skipped) and the rollup buckets of each distinct site and
 * minute. Returning every written row cost more than the insert's own index work.
 */
export async function writeEventBatch(db: Db, batch: QueuedEvent[], now: Date = new Date()): Promise<BatchWriteResult> {
  if (batch.length === 0) return { inserted: 0, duplicates: 0 }
  // A later copy of an event id in the same batch is a duplicate of the first: dropped here, so
  // that a written row is known by its id alone.
  const unique = new Map<string, QueuedEvent>()
  for (const event of batch) {
    const k = key(event.siteId, event.eventId)
    if (!unique.has(k)) unique.set(k, event)
  }
  const candidates = [...unique.values()]
  const inserted = await db.transaction(async (tx) => {
    // Sent together: Postgres runs them in order, so the insert runs holding the site locks.
    const results = await pipelined(tx, [
      ...siteLockStatements(candidates.map((event) => event.siteId)),
      sql`
      with written as (
        insert into ${events} (site_id, event_id, event_type, path, user_id, timestamp, received_at)
        select "siteId", "eventId", "eventType", "path", "userId", "timestamp", "receivedAt"
          from json_to_recordset(${jsonLiteral(candidates)}) as batch(
            "siteId" text, "eventId" text, "eventType" text, "path" text, "userId" text,
            "timestamp" timestamptz, "receivedAt" timestamptz)
        on conflict (site_id, event_id) do nothing
        returning site_id, event_id, timestamp),
      -- Every zone has had whole-minute offsets for longer than the oldest timestamp the API
      -- accepts, so all events of a minute share their rollup buckets.
      minutes as (select distinct site_id, date_trunc('minute', timestamp) as minute from written)
      select (select count(*) from written)::int as written,
             (select json_agg(json_build_array(site_id, event_id)) from written
               where (select count(*) from written) < ${sql.raw(String(candidates.length))}) as ids,
             (select json_agg(b) from (
                select m.site_id, extract(epoch from m.minute)::bigint * 1000 as minute,
                       ${bucketColumns(sql`m.minute`, sql`s.rollup_timezone`)}
                  from minutes m join ${sites} s using (site_id)) b) as buckets`,
    ])
    const result = results.at(-1)![0] as unknown as {
      written: number
      ids: [string, string][] | null
      buckets: (Buckets & { site_id: string; minute: number })[] | null
    }
    const writtenIds = result.written < candidates.length ? new Set((result.ids ?? []).map(([siteId, eventId]) => key(siteId, eventId))) : null
    const buckets = new Map((result.buckets ?? []).map((row) => [key(row.site_id, row.minute), row]))
    const written: WrittenEvent[] = []
    for (const event of candidates) {
      if (writtenIds && !writtenIds.has(key(event.siteId, event.eventId))) continue
      const at = Date.parse(event.timestamp)
      const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS
      const bucket = buckets.get(key(event.siteId, minute))!
      written.push({
        site_id: event.siteId,
        event_type: event.eventType,
        path: event.path,
        user_id: event.userId,
        at,
        minute,
        hour: bucket.hour,
        day: bucket.day,
        month: bucket.month,
        hour_index: bucket.hour_index,
        day_index: bucket.day_index,
      })
    }
    await applyRollups(tx, written, now, [
      sql`insert into ${ingestLedger} (site_id, written, duplicates)
          select site_id, written, duplicates from json_to_recordset(${jsonLiteral(ledgerCounts(batch, written))})
            as counts(site_id text, written bigint, duplicates bigint)
          -- Sorted keys: concurrent jobs lock ledger rows in the same order, so they cannot deadlock.
          order by site_id
          on conflict (site_id) do update set
            written = ${ingestLedger.written} + excluded.written,
            duplicates = ${ingestLedger.duplicates} + excluded.duplicates,
            updated_at = now()`,
    ])
    return written.length
  })
  return { inserted, duplicates: batch.length - inserted }
}

/** Per site: rows the insert wrote, and events it skipped as already stored. */
function ledgerCounts(batch: QueuedEvent[], written: readonly { site_id: string }[]) {
  const counts = new Map<string, { site_id: string; written: number; duplicates: number }>()
  for (const event of batch) {
    const entry = counts.get(event.siteId) ?? { site_id: event.siteId, written: 0, duplicates: 0 }
    entry.duplicates += 1
    counts.set(event.siteId, entry)
  }
  for (const row of written) {
    const entry = counts.get(row.site_id)!
    entry.written += 1
    entry.duplicates -= 1
  }
  return [...counts.values()]
}
