/**
 * Migration 0018 on a loaded database: one at the migration before it (made by the real migrator),
 * 50,000 events over six months written through the worker's write path (with redelivered
 * batches), then migrated. No event is lost or doubled, every rollup, visit and ledger row is the
 * same, and writing goes on: a redelivery stays a duplicate. Its cost on large tables is measured
 * by bench/partition-migration.ts.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import { migrateDatabase, migrationsFolder } from '../drizzle/migrate'
import type { QueuedEvent } from '../lib/queue'
import { writeEventBatch } from '../worker/rollups/postgres'
import { createDb } from '../drizzle/client'
import { databaseUrl, dropDatabase, uniqueName } from './kit/fixtures'
import { testEnv } from './support'

const PARTITIONING = '0018_partitioned_events'
const name = uniqueName('test_partition_migration')
const url = databaseUrl(testEnv.adminDatabaseUrl, name)
const database = createDb(url, { max: 2 })
const folder = mkdtempSync(join(tmpdir(), 'migrations-'))

/** The committed migrations up to the one before `tag`, as a folder the migrator reads. */
function migrationsBefore(tag: string): string {
  cpSync(migrationsFolder, folder, { recursive: true })
  const journalPath = join(folder, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number; tag: string }[] }
  const cut = journal.entries.findIndex((entry) => entry.tag === tag)
  expect(cut).toBeGreaterThan(0)
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }))
  return folder
}

/** A seeded generator, so a failure can be replayed. */
function generator(seed: number) {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648
}

const EVENTS = 50_000
const BATCH = 2_500
const START = Date.parse('2026-08-01T00:00:00Z')
const SPAN = Date.parse('2026-12-31T23:00:00Z') - START

function batches(): QueuedEvent[][] {
  const random = generator(20261206)
  const all = Array.from({ length: EVENTS }, (_, n): QueuedEvent => {
    const eventType = random() < 0.2 ? 'click' : 'page_view'
    return {
      eventId: `m${n}`,
      siteId: `site-${Math.floor(random() ** 2 * 3)}`,
      eventType,
      path: `/p${Math.floor(random() * 40)}`,
      userId: random() < 0.15 ? null : `u${Math.floor(random() * 3_000)}`,
      // In order, as ingestion mostly writes them, with one in ten late by up to two days.
      timestamp: new Date(START + (n / EVENTS) * SPAN - (random() < 0.1 ? random() * 2 * 86_400_000 : 0)).toISOString(),
      receivedAt: new Date(START + (n / EVENTS) * SPAN).toISOString(),
      source: 'Google',
      channel: 'Organic Search',
      country: random() < 0.5 ? 'DE' : null,
      ...(eventType === 'click' ? { props: { plan: 'pro' } } : {}),
    }
  })
  return Array.from({ length: EVENTS / BATCH }, (_, i) => all.slice(i * BATCH, (i + 1) * BATCH))
}

/** A digest of every table that holds site data (each row's text, in order), and the events by their own columns. */
async function snapshot() {
  const tables = await database.sql<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
       and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'site_id')
       and c.relname not in ('events', 'event_ids')
     order by 1`
  const digests: Record<string, { rows: number; md5: string }> = {}
  for (const { name: table } of tables) {
    const [row] = await database.sql<{ rows: number; md5: string }[]>`
      select count(*)::int as rows, md5(coalesce(string_agg(t::text, E'\n' order by t::text), '')) as md5 from ${database.sql(table)} t`
    digests[table] = row!
  }
  const columns = database.sql`site_id, event_id, event_type, path, user_id, timestamp, received_at, created_at, referrer, source, channel,
    utm_source, utm_medium, utm_campaign, utm_content, utm_term, browser, os, device, country, props`
  const [events] = await database.sql<{ rows: number; distinct_ids: number; md5: string }[]>`
    select count(*)::int as rows, count(distinct (site_id, event_id))::int as distinct_ids,
           md5(string_agg(e::text, E'\n' order by e.site_id, e.event_id)) as md5
      from (select ${columns} from events) e`
  return { events: events!, tables: digests }
}

let before: Awaited<ReturnType<typeof snapshot>>
const sent = batches()
beforeAll(async () => {
  await dropDatabase(testEnv.adminDatabaseUrl, name)
  const admin = createDb(testEnv.adminDatabaseUrl, { max: 1 })
  await admin.sql.unsafe(`create database "${name}"`)
  await admin.close()
  await migrate(database.db, { migrationsFolder: migrationsBefore(PARTITIONING) })
  // The write path of this checkout keeps its idempotency key in event_ids, which the migration
  // creates: a scaffold of it stands in meanwhile (the events keep their own unique key too).
  await database.sql`create table event_ids (site_id text not null, event_id text not null, primary key (site_id, event_id))`
  for (const [i, batch] of sent.entries()) {
    await writeEventBatch(database.db, batch)
    // Every fifth batch is redelivered.
    if (i % 5 === 0) expect(await writeEventBatch(database.db, batch)).toEqual({ inserted: 0, duplicates: BATCH })
  }
  await database.sql`drop table event_ids`
  before = await snapshot()
  // Writing 50,000 events with their rollups and visits takes a while on a busy machine.
}, 120_000)
afterAll(async () => {
  await database.close()
  await dropDatabase(testEnv.adminDatabaseUrl, name)
  rmSync(folder, { recursive: true, force: true })
})

test('the loaded database has every event once, over six months, with a global row number', async () => {
  expect(before.events).toMatchObject({ rows: EVENTS, distinct_ids: EVENTS })
  const [months] = await database.sql`select count(distinct date_trunc('month', timestamp at time zone 'UTC'))::int as n from events`
  expect(months!.n).toBe(6)
  const [id] = await database.sql`select count(*)::int as n from information_schema.columns where table_name = 'events' and column_name = 'id'`
  expect(id!.n).toBe(1)
  expect(before.tables.rollup_days!.rows).toBeGreaterThan(0)
  expect(before.tables.visits!.rows).toBeGreaterThan(0)
})

test('the migration keeps every event, once, in the partition of its month, and every rollup, visit and ledger row as it was', async () => {
  await migrateDatabase(url)
  const after = await snapshot()
  expect(after).toEqual(before)
  // The idempotency keys are exactly the events' (set operations: hashed, whatever the statistics).
  const [keys] = await database.sql`
    select (select count(*) from event_ids)::int as n,
           (select count(*) from (select site_id, event_id from event_ids except all select site_id, event_id from events) x)::int as without_event,
           (select count(*) from (select site_id, event_id from events except all select site_id, event_id from event_ids) x)::int as without_key`
  expect(keys).toEqual({ n: EVENTS, without_event: 0, without_key: 0 })
  const placed = await database.sql<{ partition: string; rows: number; wrong: number }[]>`
    select tableoid::regclass::text as partition, count(*)::int as rows,
           count(*) filter (where 'events_p' || to_char(timestamp at time zone 'UTC', 'YYYYMM') <> tableoid::regclass::text)::int as wrong
      from events group by 1 order by 1`
  expect(placed.map((row) => row.partition)).toEqual(['events_p202607', 'events_p202608', 'events_p202609', 'events_p202610', 'events_p202611', 'events_p202612'])
  expect(placed.every((row) => row.wrong === 0 && row.rows > 0)).toBe(true)
})

test('after it, a redelivered batch is still a duplicate and a new one is written', async () => {
  expect(await writeEventBatch(database.db, sent[3]!)).toEqual({ inserted: 0, duplicates: BATCH })
  const fresh = sent[3]!.map((event) => ({ ...event, eventId: `after-${event.eventId}` }))
  expect(await writeEventBatch(database.db, fresh)).toEqual({ inserted: BATCH, duplicates: 0 })
  const [count] = await database.sql`select count(*)::int as n from events`
  expect(count!.n).toBe(EVENTS + BATCH)
})
