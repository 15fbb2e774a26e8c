import { sql } from 'drizzle-orm'
import { bigserial, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

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
