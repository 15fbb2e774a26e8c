import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { events, ingestLedger, sites } from '../../drizzle/schema'
import { applyRollups, bucketColumns, lockSites, type WrittenEvent } from './rollups'
import type { QueuedEvent } from '../queues'

export interface BatchWriteResult {
  inserted: number
  duplicates: number
}

/**
 * Writes a batch in one transaction: the raw rows, then the rollups and the ledger from the rows
 * that insert actually wrote. The whole batch travels as one JSON parameter expanded by
 * json_to_recordset, so the statement is the same for any batch size and never meets Postgres's
 * bind-parameter limit. Rows whose (site_id, event_id) already exist are skipped, so a retried
 * job or a repeated client event_id is stored, and counted, once.
 */
export async function writeEventBatch(db: Db, batch: QueuedEvent[], now: Date = new Date()): Promise<BatchWriteResult> {
  if (batch.length === 0) return { inserted: 0, duplicates: 0 }
  const inserted = await db.transaction(async (tx) => {
    await lockSites(tx, batch.map((event) => event.siteId))
    const written = await tx.execute<WrittenEvent>(sql`
      with written as (
        insert into ${events} (site_id, event_id, event_type, path, user_id, timestamp, received_at)
        select "siteId", "eventId", "eventType", "path", "userId", "timestamp", "receivedAt"
          from json_to_recordset(${JSON.stringify(batch)}::json) as batch(
            "siteId" text, "eventId" text, "eventType" text, "path" text, "userId" text,
            "timestamp" timestamptz, "receivedAt" timestamptz)
        on conflict (site_id, event_id) do nothing
        returning site_id, event_type, path, user_id, timestamp)
      select w.site_id, w.event_type, w.path, w.user_id,
             to_json(w.timestamp) #>> '{}' as timestamp,
             date_trunc('minute', w.timestamp)::text as minute,
             ${bucketColumns(sql`w.timestamp`, sql`s.rollup_timezone`)}
        from written w join ${sites} s using (site_id)`)
    await applyRollups(tx, written, now)
    await tx.execute(sql`
      insert into ${ingestLedger} (site_id, written, duplicates)
      select site_id, written, duplicates from json_to_recordset(${JSON.stringify(ledgerCounts(batch, written))}::json)
        as counts(site_id text, written bigint, duplicates bigint)
      -- Sorted keys: concurrent jobs lock ledger rows in the same order, so they cannot deadlock.
      order by site_id
      on conflict (site_id) do update set
        written = ${ingestLedger.written} + excluded.written,
        duplicates = ${ingestLedger.duplicates} + excluded.duplicates,
        updated_at = now()`)
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
