import type { Job } from 'bullmq'
import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { events } from '../../drizzle/schema'
import type { Logger } from '../../lib/log'
import type { IngestJobData, QueuedEvent } from '../queues'

export interface BatchWriteResult {
  inserted: number
  duplicates: number
}

/**
 * Writes a batch in one statement and one transaction. The whole batch travels as one JSON
 * parameter expanded by json_to_recordset, so the statement is the same for any batch size and
 * never meets Postgres's bind-parameter limit. Rows whose (site_id, event_id) already exist are
 * skipped, so a retried job or a repeated client event_id is stored once.
 */
export async function writeEventBatch(db: Db, batch: QueuedEvent[]): Promise<BatchWriteResult> {
  if (batch.length === 0) return { inserted: 0, duplicates: 0 }
  const written = await db.transaction((tx) =>
    tx.execute<{ id: number }>(sql`
      insert into ${events} (site_id, event_id, event_type, path, user_id, timestamp, received_at)
      select "siteId", "eventId", "eventType", "path", "userId", "timestamp", "receivedAt"
        from json_to_recordset(${JSON.stringify(batch)}::json) as batch(
          "siteId" text, "eventId" text, "eventType" text, "path" text, "userId" text,
          "timestamp" timestamptz, "receivedAt" timestamptz)
      on conflict (site_id, event_id) do nothing
      returning id`),
  )
  return { inserted: written.length, duplicates: batch.length - written.length }
}

export function createIngestProcessor(db: Db, log: Logger) {
  return async (job: Job<IngestJobData>): Promise<BatchWriteResult> => {
    const batch = job.data.events
    log.info('processing batch', { jobId: job.id, events: batch.length, attempt: job.attemptsMade + 1 })
    const result = await writeEventBatch(db, batch)
    log.info('batch inserted', { jobId: job.id, ...result })
    return result
  }
}
