import { sql, type SQLWrapper } from 'drizzle-orm'
import {
  bigint,
  bit,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

/**
 * What the API resolved about where an event came from and on what (null: not set). A visit
 * takes these from its first event; they are kept on the raw rows so a rebuild recomputes visits.
 */
const visitProperties = () => ({
  referrer: text('referrer'),
  // Events stored before sources existed had no referrer and no campaign: Direct.
  source: text('source').notNull().default('Direct / None'),
  channel: text('channel').notNull().default('Direct'),
  utmSource: text('utm_source'),
  utmMedium: text('utm_medium'),
  utmCampaign: text('utm_campaign'),
  utmContent: text('utm_content'),
  utmTerm: text('utm_term'),
  browser: text('browser'),
  os: text('os'),
  device: text('device'),
  country: text('country'),
})

/**
 * Raw events, one row per accepted event, in one partition per UTC month of `timestamp` (migration
 * 0018; drizzle-kit cannot declare partitioning, so the migration is written by hand and this
 * declaration lists the columns and the index every partition has). Events whose month has no
 * partition land in `events_default`. Whole months past RAW_RETENTION_DAYS are dropped by the
 * prune job (worker/jobs/partitions.ts). `event_id` with `site_id` is the idempotency key, kept in
 * `event_ids`: a unique key of a partitioned table must contain the partition key, and a client's
 * retry may carry another timestamp than its first attempt.
 */
export const events = pgTable(
  'events',
  {
    siteId: text('site_id').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    path: text('path').notNull(),
    userId: text('user_id'),
    timestamp: timestamp('timestamp', { withTimezone: true, mode: 'date' }).notNull(),
    // Stamped by the API when the request arrived; accept-to-commit lag is measured from it.
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).defaultNow(),
    ...visitProperties(),
    /** Custom properties: key to value as text (numbers and booleans as their JSON text); null when none. */
    props: jsonb('props').$type<Record<string, string>>(),
  },
  (table) => [
    // Rebuilds, the export and goal questions read a site's events by time. The original (site, date), (site, path) and
    // (site, user) indexes served raw-event stats queries, which rollups answer now (migration 0003).
    index('idx_events_site_timestamp').on(table.siteId, table.timestamp),
  ],
)

/**
 * Every (site_id, event_id) ever stored: the worker inserts here first, ON CONFLICT DO NOTHING, and
 * writes to `events` only the events this insert wrote, in the same statement, so the same event id
 * of a site is stored once whatever its timestamp and whichever month's partition it falls in.
 * Kept when retention drops raw events: a late retry of a dropped event is still known, and the
 * rollups that counted it are not counted again (a row is about 100 bytes with its key).
 */
export const eventIds = pgTable('event_ids', { siteId: text('site_id').notNull(), eventId: text('event_id').notNull() }, (table) => [
  primaryKey({ columns: [table.siteId, table.eventId] }),
])

/**
 * What retention has dropped: raw events before `dropped_before` (the start of a UTC month) are
 * gone, while the rollups, visits and their figures of those months stay. One row, or none while
 * nothing has been dropped. Not per site: a reference table under Citus.
 */
export const eventRetention = pgTable(
  'event_retention',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    droppedBefore: timestamp('dropped_before', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [check('event_retention_singleton', sql`${table.singleton}`)],
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

/**
 * Refused events per site and reason; site_id is '' when the refused body named no usable site
 * or one that has never had an accepted event (so junk site ids share one row).
 */
export const ingestRefusals = pgTable(
  'ingest_refusals',
  {
    siteId: text('site_id').notNull(),
    reason: text('reason').notNull(),
    count: counter('count'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.reason] })],
)

/**
 * The same refusals per hour (the hour the API added them in), so the dashboard can say what was
 * refused lately rather than ever; the worker's prune job drops hours older than the window
 * GET /ingest/ledger?recent_hours can ask for.
 */
export const ingestRefusalHours = pgTable(
  'ingest_refusal_hours',
  {
    siteId: text('site_id').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    reason: text('reason').notNull(),
    count: counter('count'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.hour, table.reason] }), index('ingest_refusal_hours_hour_idx').on(table.hour)],
)

/**
 * Sites and their reporting timezone. `timezone` is what the site asked for; `rollupTimezone`
 * is the zone the rollups are currently bucketed in. They differ only while a rebuild runs.
 */
export const sites = pgTable('sites', {
  siteId: text('site_id').primaryKey(),
  timezone: text('timezone').notNull().default('UTC'),
  rollupTimezone: text('rollup_timezone').notNull().default('UTC'),
  firstEventAt: timestamp('first_event_at', { withTimezone: true, mode: 'date' }),
  lastEventAt: timestamp('last_event_at', { withTimezone: true, mode: 'date' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

/*
 * Rollups (GoatCounter's pattern): the worker adds to them in the same transaction as the
 * insert, from the rows that insert wrote; /stats reads only them. Hours are the instants that
 * start an hour in the site's rollup timezone; days are that zone's calendar days.
 */
const count = (name: string) => integer(name).notNull().default(0)

export const rollupHours = pgTable(
  'rollup_hours',
  {
    siteId: text('site_id').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    views: count('views'),
    events: count('events'),
    /** Distinct non-null users with any event in this hour. */
    users: count('users'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.hour] })],
)

export const rollupDays = pgTable(
  'rollup_days',
  {
    siteId: text('site_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    views: count('views'),
    events: count('events'),
    users: count('users'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.day] })],
)

export const rollupHourPaths = pgTable(
  'rollup_hour_paths',
  {
    siteId: text('site_id').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    path: text('path').notNull(),
    views: count('views'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.hour, table.path] })],
)

export const rollupDayPaths = pgTable(
  'rollup_day_paths',
  {
    siteId: text('site_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    path: text('path').notNull(),
    views: count('views'),
  },
  (table) => [
    primaryKey({ columns: [table.siteId, table.day, table.path] }),
    // Top paths read this index alone, without the table: over a range of days all of it, for one
    // day only its first `limit` entries, already in answer order (views, then path byte order).
    index('rollup_day_paths_top').on(table.siteId, table.day, table.views.desc().nullsFirst(), sql`${table.path} collate "C"`),
  ],
)

export const rollupHourTypes = pgTable(
  'rollup_hour_types',
  {
    siteId: text('site_id').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    eventType: text('event_type').notNull(),
    events: count('events'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.hour, table.eventType] })],
)

export const rollupDayTypes = pgTable(
  'rollup_day_types',
  {
    siteId: text('site_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    eventType: text('event_type').notNull(),
    events: count('events'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.day, table.eventType] })],
)

/**
 * One row per user per month of the rollup timezone: `days` has bit d set when the user had an
 * event on day d + 1, `hours` bit h (from the left) when they had one in the h-th hour after the
 * month began. Distinct users over any range of whole hours are an index scan of a site's rows
 * for the months it touches: the table grows with users, not with user-days.
 */
export const userMonths = pgTable(
  'user_months',
  {
    siteId: text('site_id').notNull(),
    month: date('month', { mode: 'string' }).notNull(),
    userId: text('user_id').notNull(),
    days: integer('days').notNull().default(0),
    hours: bit('hours', { dimensions: 768 })
      .notNull()
      .default(sql`repeat('0', 768)::bit(768)`),
  },
  (table) => [
    primaryKey({ columns: [table.siteId, table.month, table.userId] }),
    // Covers "users active on these days" as an index-only scan that skips the hour bitmaps.
    // Only `days` is indexed, so an update that sets a new hour bit alone can stay HOT.
    index('user_months_site_month_days').on(table.siteId, table.month, table.days, table.userId),
  ],
)

/**
 * Who viewed which page in which rollup hour: one row per visitor, page and hour, so the distinct
 * visitors of a page over any whole hours are a count of these rows. Anonymous page views are
 * visitors of their own (the visitor is then the event id). The key holds MD5s of the page and
 * the visitor: the texts themselves (up to 2 KB and 1 KB) could pass the 2.7 KB a btree entry
 * may take, and one such event would fail its whole job.
 */
export const pageVisitors = pgTable(
  'page_visitors',
  {
    siteId: text('site_id').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    pathKey: uuid('path_key').notNull(),
    visitorKey: uuid('visitor_key').notNull(),
    anonymous: boolean('anonymous').notNull(),
    path: text('path').notNull(),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.hour, table.pathKey, table.visitorKey, table.anonymous] })],
)

/** The `days` bit of a day index and the `hours` bit of an hour index, as laid out above (combine with bit_or). */
export const userDayBit = (dayIndex: SQLWrapper) => sql`(1 << ${dayIndex})`
export const userHourBit = (hourIndex: SQLWrapper) => sql`(B'1'::bit(768) >> ${hourIndex})`

/** Per-minute counts and users for the realtime view; only the last hours are kept. */
export const rollupMinutes = pgTable(
  'rollup_minutes',
  {
    siteId: text('site_id').notNull(),
    minute: timestamp('minute', { withTimezone: true, mode: 'date' }).notNull(),
    events: count('events'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.minute] })],
)

export const minuteUsers = pgTable(
  'minute_users',
  {
    siteId: text('site_id').notNull(),
    minute: timestamp('minute', { withTimezone: true, mode: 'date' }).notNull(),
    userId: text('user_id').notNull(),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.minute, table.userId] })],
)

/**
 * Accounts: `admin` (everything) or `viewer` (reads the sites in user_sites). Passwords are
 * argon2id hashes (Bun.password). The account named by ADMIN_USER is kept in step with the
 * configured admin password: `configured_password_hash` remembers the one last applied, so a
 * change of ADMIN_PASSWORD resets it while a password changed in the dashboard survives restarts.
 * Not per site: a reference table under Citus.
 */
export const users = pgTable(
  'users',
  {
    userId: uuid('user_id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    configuredPasswordHash: text('configured_password_hash'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('users_username').on(table.username), check('users_role', sql`${table.role} in ('admin', 'viewer')`)],
)

/** The sites a viewer may read (admins read every site). */
export const userSites = pgTable(
  'user_sites',
  {
    siteId: text('site_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.userId, { onDelete: 'cascade' }),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.userId] }), index('user_sites_user').on(table.userId)],
)

/**
 * Tokens that read one site's stats: shared links (`link`, optionally behind a password) and API
 * keys (`key`, named). Only the token's SHA-256 is kept (it is 32 random bytes, so no slower hash
 * is needed); the token itself is shown once, when made. Revoking deletes the row, and with it the
 * sessions a link's password opened.
 */
export const siteTokens = pgTable(
  'site_tokens',
  {
    siteId: text('site_id').notNull(),
    tokenId: uuid('token_id').notNull().defaultRandom(),
    kind: text('kind').notNull(),
    name: text('name'),
    tokenHash: text('token_hash').notNull(),
    passwordHash: text('password_hash'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.siteId, table.tokenId] }),
    uniqueIndex('site_tokens_hash').on(table.tokenHash),
    check('site_tokens_kind', sql`${table.kind} in ('link', 'key')`),
  ],
)

/**
 * Sessions, kept server-side so that signing out, disabling an account or revoking a link takes
 * effect at once in every API process. A session belongs to an account (the sign-in cookie) or to
 * a password-protected shared link (a bearer token for that one site). Only the token's SHA-256 is
 * stored, so a leaked table cannot be replayed.
 */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id').references(() => users.userId, { onDelete: 'cascade' }),
    siteId: text('site_id'),
    tokenId: uuid('token_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    index('sessions_expires_at').on(table.expiresAt),
    index('sessions_user').on(table.userId),
    foreignKey({ columns: [table.siteId, table.tokenId], foreignColumns: [siteTokens.siteId, siteTokens.tokenId] }).onDelete('cascade'),
    check('sessions_one_owner', sql`(${table.userId} is null) <> (${table.tokenId} is null)`),
  ],
)

/**
 * Visits, kept by the worker as events arrive (in any order): a visitor's events on a site with no
 * gap of more than 30 minutes. A late event that closes a gap merges two rows into one; one before
 * a visit moves its start. Anonymous events are visitors of their own (visitor_id is then the
 * event id). Events are ordered by (timestamp, event id), so the first and last of a visit are
 * well defined when timestamps tie. Breakdowns read this table, never the raw events.
 */
export const visits = pgTable(
  'visits',
  {
    siteId: text('site_id').notNull(),
    visitorId: text('visitor_id').notNull(),
    anonymous: boolean('anonymous').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }).notNull(),
    firstEventId: text('first_event_id').notNull(),
    lastEventId: text('last_event_id').notNull(),
    events: integer('events').notNull(),
    views: integer('views').notNull(),
    entryPage: text('entry_page').notNull(),
    exitPage: text('exit_page').notNull(),
    ...visitProperties(),
  },
  (table) => [
    // Led by the visitor, so the worker's lookup of a visitor's visits can only be a range of this
    // index: led by the site, the (site, start) index below looked as good to a planner without
    // statistics, and it read every visit of the site in the window for each visitor.
    primaryKey({ columns: [table.visitorId, table.siteId, table.anonymous, table.startedAt] }),
    // Reports read a site's visits by start time.
    index('visits_site_started').on(table.siteId, table.startedAt),
  ],
)

/**
 * Visit figures per calendar day of the rollup timezone, property and value, kept by the worker
 * from the visits it adds and removes (worker/visits/rollups.ts), so reports over whole days of
 * the site's zone read these rows instead of the visits. `property` is a breakdown property; ''
 * (value '') holds all visits, and 'page' the page views by their own time (visits, bounces and
 * duration are then 0). `visitors` are that day's distinct visitors (each anonymous visit, or
 * anonymous page view, one of its own), `anonymous` how many of them were anonymous. The key
 * holds the value's MD5: a page or referrer could pass what a btree entry may take.
 */
export const visitDays = pgTable(
  'visit_days',
  {
    siteId: text('site_id').notNull(),
    property: text('property').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    valueKey: uuid('value_key').notNull(),
    value: text('value').notNull(),
    visits: count('visits'),
    visitors: count('visitors'),
    anonymous: count('anonymous'),
    bounces: count('bounces'),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull().default(0),
    views: count('views'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.property, table.day, table.valueKey] })],
)

/**
 * Which identified visitors had a visit (or, for 'page', a page view) with a value, per month of
 * the rollup timezone: bit d of `days` for day d + 1, as in user_months. Distinct visitors of a
 * value over several days are a count of these rows; anonymous ones are visit_days.anonymous.
 * Migration 0013 makes the key INCLUDE `days`, so that count reads the index alone once vacuum
 * has marked the pages visible (rows whose bits changed since are read from the table).
 */
export const valueVisitors = pgTable(
  'value_visitors',
  {
    siteId: text('site_id').notNull(),
    property: text('property').notNull(),
    month: date('month', { mode: 'string' }).notNull(),
    valueKey: uuid('value_key').notNull(),
    visitorKey: uuid('visitor_key').notNull(),
    days: integer('days').notNull().default(0),
    /** The days the last write of the row set: returned to that write, which counts new visitors without reading the row first. */
    marked: integer('marked').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.property, table.month, table.valueKey, table.visitorKey] })],
)

/**
 * Goals: an event type, or page views of a path pattern (`*` matches any characters). They are
 * counted from the stored events when asked, so a goal added today counts every past conversion.
 * Names, event types and patterns are each unique per site (paths are at most 2 KB, so they fit
 * a btree entry).
 */
export const goals = pgTable(
  'goals',
  {
    siteId: text('site_id').notNull(),
    goalId: uuid('goal_id').notNull().defaultRandom(),
    name: text('name').notNull(),
    eventType: text('event_type'),
    page: text('page'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.siteId, table.goalId] }),
    uniqueIndex('goals_site_name').on(table.siteId, table.name),
    uniqueIndex('goals_site_event_type').on(table.siteId, table.eventType),
    uniqueIndex('goals_site_page').on(table.siteId, table.page),
    check('goals_one_kind', sql`(${table.eventType} is null) <> (${table.page} is null)`),
  ],
)

/** Funnels: 2 to 8 goals of the site, in order (a goal may appear more than once). */
export const funnels = pgTable(
  'funnels',
  {
    siteId: text('site_id').notNull(),
    funnelId: uuid('funnel_id').notNull().defaultRandom(),
    name: text('name').notNull(),
    steps: uuid('steps').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.funnelId] }), uniqueIndex('funnels_site_name').on(table.siteId, table.name)],
)
