/**
 * What migration 0018 (events partitioned by month) costs on a large table:
 * `bun bench/partition-migration.ts [--events 200000,1000000]`.
 *
 * For each size, a fresh database at the migration before it gets that many events over twelve
 * months and 50 sites (written by one INSERT … SELECT, not through the worker: only the migration
 * is timed), then the real migrator applies 0018, timed, and the events are counted again. Prints
 * rows per second and the size of the events table before and after. Ingestion waits that long
 * on a real upgrade: the migration holds the events table's exclusive lock until it commits.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import { createDb } from '../drizzle/client'
import { migrateDatabase, migrationsFolder } from '../drizzle/migrate'
import { databaseUrl, dropDatabase, uniqueName } from '../tests/kit/fixtures'
import { loadTestEnv } from '../tests/env'

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000,1000000' }, help: { type: 'boolean', short: 'h', default: false } } })
if (values.help) {
  console.log('Usage: bun bench/partition-migration.ts [--events N,N,…]')
  process.exit(0)
}
const sizes = values.events!.split(',').map(Number)
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(`--events must be positive whole numbers, got "${values.events}"`)
  process.exit(2)
}

const env = loadTestEnv()
const folder = mkdtempSync(join(tmpdir(), 'migrations-'))
cpSync(migrationsFolder, folder, { recursive: true })
const journalPath = join(folder, 'meta', '_journal.json')
const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] }
writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.filter((entry) => entry.tag !== '0018_partitioned_events') }))

console.log('[partition-migration-bench] migration 0018 on a loaded events table')
for (const size of sizes) {
  const name = uniqueName('bench_partition_migration')
  const admin = createDb(env.adminDatabaseUrl, { max: 1 })
  await admin.sql.unsafe(`create database "${name}"`)
  await admin.close()
  const url = databaseUrl(env.adminDatabaseUrl, name)
  const database = createDb(url, { max: 1 })
  try {
    await migrate(database.db, { migrationsFolder: folder })
    await database.sql`
      insert into events (site_id, event_id, event_type, path, user_id, timestamp, received_at, referrer, source, channel, browser, os, device, country, props)
      select 'site-' || (n % 50), gen_random_uuid()::text, case when n % 7 = 0 then 'click' else 'page_view' end, '/docs/page-' || (n % 1000),
             case when n % 10 = 0 then null else 'u' || (n % 100000) end,
             timestamptz '2025-12-01' + (n::float8 / ${size}) * interval '365 days', now(),
             'https://www.google.com/', 'Google', 'Organic Search', 'Chrome', 'Windows', 'Desktop', 'US',
             case when n % 7 = 0 then '{"plan":"pro"}'::jsonb end
        from generate_series(1, ${size}) n`
    await database.sql`vacuum analyze events`
    const [sized] = await database.sql<{ bytes: number }[]>`select pg_total_relation_size('events')::float8 as bytes`
    const before = sized!.bytes
    const started = performance.now()
    await migrateDatabase(url)
    const seconds = (performance.now() - started) / 1000
    const [counted] = await database.sql<{ rows: number; bytes: number }[]>`
      select (select count(*) from events)::int as rows,
             (select sum(pg_total_relation_size(c.oid)) from pg_class c where c.relname ~ '^events_(p[0-9]{6}|default)$' or c.relname = 'event_ids')::float8 as bytes`
    const { rows, bytes: after } = counted!
    if (rows !== size) throw new Error(`${size} events before the migration, ${rows} after`)
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
    console.log(
      `${String(size).padStart(9)} events  ${seconds.toFixed(1).padStart(6)} s  ${Math.round(size / seconds).toLocaleString('en-US').padStart(8)} rows/s  ` +
        `events ${mb(before)} before, partitions with event_ids ${mb(after)} after`,
    )
  } finally {
    await database.close()
    await dropDatabase(env.adminDatabaseUrl, name)
  }
}
rmSync(folder, { recursive: true, force: true })
