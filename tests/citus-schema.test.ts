/**
 * The schema is ready to be distributed by site_id (Citus): read from the migrated database's
 * catalog, every table that holds site data has site_id, not null, in each of its primary and
 * unique keys and in each foreign key to another such table, and no sequence-numbered column; every
 * other table is a documented reference table. The README's "Running on Citus" statements name
 * exactly these tables. Citus itself does not run here: this checks what would block
 * create_distributed_table, not the cluster.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createTestDatabase, type TestDatabase } from './support'

/** Small tables that are not per site: replicated whole to every node (create_reference_table). */
const REFERENCE_TABLES = ['event_retention', 'sessions', 'site_tokens', 'user_sites', 'users']

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase('citus')
})
afterAll(() => database.drop())

type Table = { name: string; site_id_not_null: boolean | null; sequenced: string[] }

/** Tables of the public schema, a partitioned table standing for its partitions. */
async function tables(): Promise<Table[]> {
  return [
    ...(await database.sql<Table[]>`
      select c.relname as name,
             (select a.attnotnull from pg_attribute a where a.attrelid = c.oid and a.attname = 'site_id' and not a.attisdropped) as site_id_not_null,
             array(select a.attname::text from pg_attribute a join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                    where a.attrelid = c.oid and pg_get_expr(d.adbin, d.adrelid) like 'nextval(%') as sequenced
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
       order by c.relname`),
  ]
}

/** Every primary and unique key (constraints and unique indexes alike) with its columns, of tables and partitions. */
async function uniqueKeys() {
  return [
    ...(await database.sql<{ table: string; parent: string | null; key: string; columns: string[] }[]>`
      select t.relname as table, p.relname as parent, i.relname as key,
             array(select a.attname::text from unnest(x.indkey) k join pg_attribute a on a.attrelid = t.oid and a.attnum = k) as columns
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
        join pg_namespace n on n.oid = t.relnamespace
        left join pg_inherits h on h.inhrelid = t.oid left join pg_class p on p.oid = h.inhparent
       where n.nspname = 'public' and x.indisunique
       order by 1, 3`),
  ]
}

test('every table is distributed by site_id or a documented reference table', async () => {
  const all = await tables()
  const distributed = all.filter((table) => !REFERENCE_TABLES.includes(table.name))
  expect(all.map((table) => table.name)).toEqual(expect.arrayContaining(REFERENCE_TABLES))
  // A table without site_id (or with one that may be null) must be a reference table.
  expect(distributed.filter((table) => table.site_id_not_null !== true).map((table) => table.name)).toEqual([])
  // No global row numbers: a sequence is one counter for the whole cluster.
  expect(distributed.filter((table) => table.sequenced.length > 0).map((table) => `${table.name}.${table.sequenced}`)).toEqual([])
  expect(distributed.map((table) => table.name)).toContain('events')
})

test('every primary and unique key of a distributed table, and of its partitions, includes site_id', async () => {
  const keys = await uniqueKeys()
  const ofDistributed = keys.filter((key) => !REFERENCE_TABLES.includes(key.parent ?? key.table))
  expect(ofDistributed.length).toBeGreaterThan(15)
  expect(ofDistributed.filter((key) => !key.columns.includes('site_id')).map((key) => `${key.table}: ${key.key} (${key.columns})`)).toEqual([])
  // The idempotency key among them.
  expect(ofDistributed).toContainEqual({ table: 'event_ids', parent: null, key: 'event_ids_site_id_event_id_pk', columns: ['site_id', 'event_id'] })
})

test('foreign keys never lead from a reference table to a distributed one, and between distributed tables they carry site_id', async () => {
  const foreign = await database.sql<{ from: string; to: string; from_columns: string[]; to_columns: string[] }[]>`
    select f.relname as from, t.relname as to,
           array(select a.attname::text from unnest(c.conkey) k join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k) as from_columns,
           array(select a.attname::text from unnest(c.confkey) k join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k) as to_columns
      from pg_constraint c join pg_class f on f.oid = c.conrelid join pg_class t on t.oid = c.confrelid
      join pg_namespace n on n.oid = f.relnamespace
     where n.nspname = 'public' and c.contype = 'f'`
  expect(foreign.length).toBeGreaterThan(0)
  const isReference = (table: string) => REFERENCE_TABLES.includes(table)
  const blocking = foreign.filter(({ from, to, from_columns, to_columns }) =>
    isReference(to) ? false : isReference(from) || !from_columns.includes('site_id') || !to_columns.includes('site_id'),
  )
  expect(blocking).toEqual([])
})

test('the README’s statements for Citus name exactly these tables', async () => {
  const readme = readFileSync(resolve(import.meta.dir, '../README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Running on Citus'))
  const named = (call: string) => [...section.matchAll(new RegExp(`${call}\\('(\\w+)'`, 'g'))].map((match) => match[1]!).sort()
  const all = (await tables()).map((table) => table.name)
  expect(named('create_reference_table')).toEqual([...REFERENCE_TABLES].sort())
  expect(named('create_distributed_table')).toEqual(all.filter((name) => !REFERENCE_TABLES.includes(name)).sort())
})
