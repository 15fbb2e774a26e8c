import { sql } from 'drizzle-orm'
import { bigint, bigserial, index, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

/**
 * Raw events, one row per accepted event. `event_id` (client-chosen or a UUIDv7 made by the API)
 * with `site_id` is the idempotency key: the worker inserts with ON CONFLICT DO NOTHING on it,
 * so retried jobs and client retries never count twice.
 */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    siteId: text('site_id').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    path: text('path').notNull(),
    userId: text('user_id'),
    timestamp: timestamp('timestamp', { withTimezone: true, mode: 'date' }).notNull(),
    // Stamped by the API when the request arrived; accept-to-commit lag is measured from it.
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).defaultNow(),
  },
  (table) => [
    uniqueIndex('events_site_event_id_key').on(table.siteId, table.eventId),
    index('idx_events_site_date').on(table.siteId, sql`((${table.timestamp} AT TIME ZONE 'UTC')::date)`),
    index('idx_events_site_path').on(table.siteId, table.path),
    index('idx_events_site_user').on(table.siteId, table.userId),
    index('idx_events_site_timestamp').on(table.siteId, table.timestamp),
  ],
)

export type EventRow = typeof events.$inferSelect
export type NewEventRow = typeof events.$inferInsert

const counter = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0)

/**
 * Per-site ingestion ledger. `accepted` and `refused` are counted by the API (events answered 202 or refused); `written`
 * and `duplicates` by the worker in the same transaction as the insert, so they are exact. While
 * the queue is empty, accepted = written + duplicates: a gap that persists means lost events.
 */
export const ingestLedger = pgTable('ingest_ledger', {
  siteId: text('site_id').primaryKey(),
  accepted: counter('accepted'),
  refused: counter('refused'),
  written: counter('written'),
  duplicates: counter('duplicates'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

/** Refused events per site and reason; site_id is '' when the refused body named no usable site. */
export const ingestRefusals = pgTable(
  'ingest_refusals',
  {
    siteId: text('site_id').notNull(),
    reason: text('reason').notNull(),
    count: counter('count'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.reason] })],
)
