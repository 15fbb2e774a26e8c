/**
 * Writes batches to Postgres: the raw rows, then the rollup deltas (deltas.ts) and the ledger, in
 * one transaction under the sites' advisory locks. Statements carry no bind parameters
 * (batches travel as `jsonLiteral`) and are pipelined, so a transaction waits for few round trips.
 */
import { sql, type SQL, type SQLChunk } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import { jsonLiteral, type Db } from '../../drizzle/client'
import {
  eventIds,
  events,
  ingestLedger,
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
  userDayBit,
  userHourBit,
  userMonths,
} from '../../drizzle/schema'
import type { QueuedEvent } from '../../lib/queue'
import { siteLockKey } from '../../lib/site-lock'
import {
  ledgerCounts,
  rollupDeltas,
  splitCreatedUsers,
  totalsWithNewUsers,
  uniqueEvents,
  writtenEvents,
  type CreatedUserRow,
  type InsertResult,
  type NewUserBits,
  type RollupDeltas,
  type UserMonthBits,
} from './deltas'
import { DIRECT_CHANNEL, DIRECT_SOURCE, visitOf, type Visit } from '../visits/merge'
import { storedVisitsQuery, visitChanges, visitWrites } from '../visits/postgres'
import { clearedVisitorsStatement, pageViewsOf, visitRollupStatement, type PageViewRow } from '../visits/rollups'

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/** A constant string in the statement's text: statements here carry no bind parameters (see `pipelined`). */
const literal = (text: string) => sql.raw(`'${text.replaceAll("'", "''")}'`)

export interface BatchWriteResult {
  inserted: number
  duplicates: number
}

/**
 * SQL that turns an event timestamp into its rollup buckets; the worker and the rebuild both use
 * it, so live and rebuilt rollups are the same.
 */
export const bucketColumns = (timestamp: unknown, tz: unknown) => sql`
  date_trunc('hour', ${timestamp}, ${tz}) as hour,
  (date_trunc('hour', ${timestamp}, ${tz}) at time zone ${tz})::date as day,
  (date_trunc('month', ${timestamp}, ${tz}) at time zone ${tz})::date as month,
  (extract(epoch from date_trunc('hour', ${timestamp}, ${tz}) - date_trunc('month', ${timestamp}, ${tz})) / 3600)::int as hour_index,
  (extract(day from date_trunc('hour', ${timestamp}, ${tz}) at time zone ${tz}))::int - 1 as day_index`

/**
 * Writes a batch in one transaction: the raw rows, then the rollups and the ledger from the rows
 * that insert actually wrote. The whole batch travels as one JSON parameter expanded by
 * json_to_recordset, so the statement is the same for any batch size and never meets Postgres's
 * bind-parameter limit. Events whose (site_id, event_id) is already in `event_ids` are skipped, so
 * a retried job or a repeated client event_id is stored, and counted, once, in whichever month's
 * partition its timestamp puts it.
 *
 * The insert sends back only what the worker does not already hold: how many rows it wrote
 * (their ids only when some were skipped) and the rollup buckets of each distinct site and
 * minute. Returning every written row cost more than the insert's own index work.
 */
export async function writeEventBatch(db: Db, batch: QueuedEvent[], now: Date = new Date()): Promise<BatchWriteResult> {
  if (batch.length === 0) return { inserted: 0, duplicates: 0 }
  const candidates = uniqueEvents(batch)
  const inserted = await db.transaction(async (tx) => {
    // Sent together: Postgres runs them in order, so the insert runs holding the site locks.
    const results = await pipelined(tx, [
      ...siteLockStatements(candidates.map((event) => event.siteId)),
      sql`
      with batch as (
        select * from json_to_recordset(${jsonLiteral(candidates)}) as batch(
          "siteId" text, "eventId" text, "eventType" text, "path" text, "userId" text,
          "timestamp" timestamptz, "receivedAt" timestamptz, "referrer" text, "source" text, "channel" text,
          "utmSource" text, "utmMedium" text, "utmCampaign" text, "utmContent" text, "utmTerm" text,
          "browser" text, "os" text, "device" text, "country" text, "props" jsonb)),
      -- The idempotency key first: only the events whose key this insert wrote are stored.
      fresh as (
        insert into ${eventIds} (site_id, event_id) select "siteId", "eventId" from batch
        on conflict (site_id, event_id) do nothing
        returning site_id, event_id),
      written as (
        insert into ${events} (site_id, event_id, event_type, path, user_id, timestamp, received_at, referrer, source, channel,
                               utm_source, utm_medium, utm_campaign, utm_content, utm_term, browser, os, device, country, props)
        select "siteId", "eventId", "eventType", "path", "userId", "timestamp", "receivedAt", "referrer",
               coalesce("source", ${literal(DIRECT_SOURCE)}), coalesce("channel", ${literal(DIRECT_CHANNEL)}),
               "utmSource", "utmMedium", "utmCampaign", "utmContent", "utmTerm", "browser", "os", "device", "country", "props"
          from batch join fresh on fresh.site_id = batch."siteId" and fresh.event_id = batch."eventId"
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
    const written = writtenEvents(candidates, results.at(-1)![0] as unknown as InsertResult)
    const ledger = sql`insert into ${ingestLedger} (site_id, written, duplicates)
          select site_id, written, duplicates from json_to_recordset(${jsonLiteral(ledgerCounts(batch, written))})
            as counts(site_id text, written bigint, duplicates bigint)
          -- Sorted keys: concurrent jobs lock ledger rows in the same order, so they cannot deadlock.
          order by site_id
          on conflict (site_id) do update set
            written = ${ingestLedger.written} + excluded.written,
            duplicates = ${ingestLedger.duplicates} + excluded.duplicates,
            updated_at = now()`
    if (written.length === 0) await pipelined(tx, [ledger])
    else
      await writeRollups(
        tx,
        rollupDeltas(written, now),
        [ledger],
        written.map((row) => visitOf(row.event)),
        pageViewsOf(written),
      )
    return written.length
  })
  return { inserted, duplicates: batch.length - inserted }
}

/**
 * Statements that take the sites' locks in a fixed order, and register sites seen for the first
 * time. The locks are exclusive: visits are read, merged and written back, so two transactions
 * must not change one site's visits at once (and a rebuild, which takes them too, never races a
 * job). They are returned,
 * not run, so the caller can send them together with the statement that needs the locks.
 */
function siteLockStatements(siteIds: string[]): SQL[] {
  const sorted = jsonLiteral([...new Set(siteIds)].sort())
  return [
    // Ordered by the lock key, not the site id: two sites whose ids hash alike share a lock.
    sql`select pg_advisory_xact_lock(key)
          from (select distinct ${siteLockKey(sql`site_id`)} as key from json_array_elements_text(${sorted}) as s(site_id)) k order by key`,
    sql`insert into ${sites} (site_id)
        select site_id from json_array_elements_text(${sorted}) as s(site_id) order by site_id
        on conflict (site_id) do nothing`,
  ]
}

/**
 * Runs statements of one transaction pipelined: all are sent at once and Postgres runs them in
 * order, so a transaction waits for one round trip instead of one per statement. On a busy machine
 * each round trip also waits for the worker and the Postgres backend to be scheduled, which made
 * those waits most of a transaction's time. Every statement must be free of bind parameters (see
 * `jsonLiteral`), or postgres.js stops the pipeline to describe it.
 */
function pipelined(tx: Tx, statements: SQL[]) {
  return Promise.all(statements.map((statement) => tx.execute(statement)))
}

/**
 * Adds a batch of counts to a rollup: rows with a new key are inserted, the others get the counts
 * added. `rows` (sorted by key) carry the key columns, named with their types in `keys`, and the
 * integer `counts`.
 */
function addCounts(table: PgTable, rows: readonly object[], keys: Record<string, string>, counts: string[]): SQL {
  const column = (name: string) => sql.identifier(name)
  const list = (items: SQLChunk[]) => sql.join(items, sql`, `)
  const keyNames = Object.keys(keys)
  return sql`insert into ${table} (${list([...keyNames, ...counts].map(column))})
    select * from json_to_recordset(${jsonLiteral(rows)})
      as r(${list([...Object.entries(keys).map(([name, type]) => sql`${column(name)} ${sql.raw(type)}`), ...counts.map((name) => sql`${column(name)} int`)])})
    on conflict (${list(keyNames.map(column))}) do update
      set ${list(counts.map((name) => sql`${column(name)} = ${table}.${column(name)} + excluded.${column(name)}`))}`
}

/**
 * Adds the deltas to every rollup and brings the visits up to date. Runs inside the insert's
 * transaction; `alongside` are statements of the caller's that are sent with the first of the
 * rollups' (see `pipelined`). The stored visits the new ones may touch are read with that first
 * batch of statements and rewritten with the last, so visits cost no round trip of their own.
 */
async function writeRollups(tx: Tx, deltas: RollupDeltas, alongside: SQL[], newVisits: Visit[], pages: PageViewRow[]): Promise<void> {
  // Every rollup but the hour and day totals, whose user counts wait for the user bits: sent
  // together with the insert of the users' new month rows.
  const others: SQL[] = [...alongside]
  if (deltas.hourPaths.length > 0) {
    others.push(
      addCounts(rollupHourPaths, deltas.hourPaths, { site_id: 'text', hour: 'timestamptz', path: 'text' }, ['views']),
      addCounts(rollupDayPaths, deltas.dayPaths, { site_id: 'text', day: 'date', path: 'text' }, ['views']),
      sql`insert into ${pageVisitors} (site_id, hour, path_key, visitor_key, anonymous, path)
          select site_id, hour, md5(path)::uuid, md5(visitor_id)::uuid, anonymous, path
            from json_to_recordset(${jsonLiteral(deltas.pageVisitors)}) as r(site_id text, hour timestamptz, path text, visitor_id text, anonymous boolean)
          on conflict do nothing`,
    )
  }
  others.push(
    addCounts(rollupHourTypes, deltas.hourTypes, { site_id: 'text', hour: 'timestamptz', event_type: 'text' }, ['events']),
    addCounts(rollupDayTypes, deltas.dayTypes, { site_id: 'text', day: 'date', event_type: 'text' }, ['events']),
  )
  if (deltas.minutes.length > 0) others.push(addCounts(rollupMinutes, deltas.minutes, { site_id: 'text', minute: 'timestamptz' }, ['events']))
  if (deltas.minuteUsers.length > 0) {
    others.push(sql`
      insert into ${minuteUsers} (site_id, minute, user_id)
      select * from json_to_recordset(${jsonLiteral(deltas.minuteUsers)}) as r(site_id text, minute timestamptz, user_id text)
      on conflict do nothing`)
  }
  others.push(sql`
    update ${sites} s set first_event_at = least(s.first_event_at, r.first), last_event_at = greatest(s.last_event_at, r.last)
      from json_to_recordset(${jsonLiteral(deltas.siteTimes)})
        as r(site_id text, first timestamptz, last timestamptz)
     where s.site_id = r.site_id
       and (s.first_event_at is null or r.first < s.first_event_at or r.last > s.last_event_at)`)

  const lookup = storedVisitsQuery(newVisits)
  if (lookup) others.push(lookup)
  const hasUsers = deltas.users.length > 0
  const results = await pipelined(tx, hasUsers ? [createUserRows(deltas.users), ...others] : others)
  const stored = lookup ? (results.at(-1) as unknown as Visit[]) : []
  const { fresh, existing } = splitCreatedUsers(deltas, hasUsers ? (results[0] as unknown as CreatedUserRow[]) : [])
  const newBits = existing.length === 0 ? fresh : [...fresh, ...(await setMissingUserBits(tx, existing))]
  const { hours, days } = totalsWithNewUsers(deltas.totals, newBits)
  const changes = visitChanges(newVisits, stored)

  await pipelined(tx, [
    addCounts(rollupHours, hours, { site_id: 'text', hour: 'timestamptz' }, ['views', 'events', 'users']),
    addCounts(rollupDays, days, { site_id: 'text', day: 'date' }, ['views', 'events', 'users']),
    // In this order: the visit figures count the visits as written, and clearing reads them.
    ...visitWrites(changes),
    ...[visitRollupStatement(changes, pages), clearedVisitorsStatement(changes)].filter((statement) => statement !== null),
  ])
}

/**
 * The batch's users with the bits their events set, for a sorted list of them. Almost every user
 * has one hour in a batch: that hour and day travel as plain numbers, lists only when there are
 * more (parsing JSON arrays was most of this statement's cost).
 */
const userBitsBatch = (list: readonly UserMonthBits[]) => sql`
  select site_id, month, user_id, coalesce(hs, array[h]) as hours, coalesce(ds, array[d]) as days,
         case when hs is null then ${userHourBit(sql`h`)} else (select bit_or(${userHourBit(sql`x`)}) from unnest(hs) x) end as hour_bits,
         case when ds is null then ${userDayBit(sql`d`)} else (select bit_or(${userDayBit(sql`x`)}) from unnest(ds) x) end as day_bits
    from json_to_recordset(${jsonLiteral(
      list.map((u) => ({
        site_id: u.site_id,
        month: u.month,
        user_id: u.user_id,
        h: u.hours[0],
        d: u.days[0],
        hs: u.hours.length > 1 ? u.hours : null,
        ds: u.days.length > 1 ? u.days : null,
      })),
    )}) as u(site_id text, month date, user_id text, h int, d int, hs int[], ds int[])`

/**
 * Creates the month rows of users not seen yet that month, carrying their bits from the start
 * (one write instead of insert, lock and update); returns the rows it created.
 */
const createUserRows = (users: readonly UserMonthBits[]) => sql`
  insert into ${userMonths} (site_id, month, user_id, days, hours)
  select site_id, month, user_id, day_bits, hour_bits from (${userBitsBatch(users)}) b
   order by site_id, month, user_id
  on conflict do nothing
  returning site_id, month::text as month, user_id`

/**
 * Sets the batch's hour and day bits in the existing month rows of its users and returns the bits
 * that were not set yet. Rows are locked only when a bit is missing: bits are only ever added
 * while a job holds its site's lock (a rebuild waits for it too), so a bit seen set without a row
 * lock is still set.
 */
function setMissingUserBits(tx: Tx, existing: readonly UserMonthBits[]) {
  // A day's bit is set whenever one of its hours is, so a row needs locking only for an hour bit.
  return tx.execute<NewUserBits>(sql`
    with missing as (
      select b.* from (${userBitsBatch(existing)}) b join ${userMonths} m using (site_id, month, user_id)
       where m.hours | b.hour_bits <> m.hours
    ), current as (
      select m.site_id, m.month, m.user_id, m.hours, m.days
        from ${userMonths} m join missing b using (site_id, month, user_id)
       order by m.site_id, m.month, m.user_id
         for update of m
    ), fresh as (
      select b.site_id, b.month, b.user_id, b.hour_bits, b.day_bits,
             array(select h from unnest(b.hours) h where get_bit(c.hours, h) = 0) as new_hours,
             array(select d from unnest(b.days) d where (c.days >> d) & 1 = 0) as new_days
        from missing b join current c using (site_id, month, user_id)
    ), changed as (
      update ${userMonths} m set hours = m.hours | f.hour_bits, days = m.days | f.day_bits
        from fresh f
       where m.site_id = f.site_id and m.month = f.month and m.user_id = f.user_id and cardinality(f.new_hours) > 0
    )
    select site_id, month::text as month, new_hours, new_days from fresh where cardinality(new_hours) > 0`)
}
