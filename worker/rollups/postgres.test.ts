import { afterAll, beforeAll, expect, test } from 'bun:test'
import { countEvents, createTestDatabase, type TestDatabase } from '../../tests/support'
import type { QueuedEvent } from '../../lib/queue'
import { writeEventBatch } from './postgres'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase('writes')
})
afterAll(() => database.drop())

function batch(siteId: string, size: number): QueuedEvent[] {
  const receivedAt = new Date().toISOString()
  return Array.from({ length: size }, (_, i) => ({
    eventId: `${siteId}-${i}`,
    siteId,
    eventType: i % 3 === 0 ? 'click' : 'page_view',
    path: `/p/${i % 17}`,
    userId: i % 5 === 0 ? null : `u${i % 101}`,
    timestamp: new Date(Date.UTC(2025, 10, 14, 0, 0, i % 86_400)).toISOString(),
    receivedAt,
  }))
}

test('a batch larger than one statement can bind is written whole, in one transaction', async () => {
  const events = batch('big', 20_000) // 140,000 parameters: over Postgres's 65,535 per statement
  expect(await writeEventBatch(database.db, events)).toEqual({ inserted: 20_000, duplicates: 0 })
  expect(await countEvents(database, 'big')).toBe(20_000)
})

test('writing the same batch again (a redelivered job) inserts nothing', async () => {
  const events = batch('again', 500)
  expect(await writeEventBatch(database.db, events)).toEqual({ inserted: 500, duplicates: 0 })
  expect(await writeEventBatch(database.db, events)).toEqual({ inserted: 0, duplicates: 500 })
  expect(await countEvents(database, 'again')).toBe(500)
})

test('duplicates inside one batch and against stored rows are counted once', async () => {
  const [a, b] = batch('mixed', 2)
  await writeEventBatch(database.db, [a!])
  expect(await writeEventBatch(database.db, [a!, b!, b!])).toEqual({ inserted: 1, duplicates: 2 })
  expect(await countEvents(database, 'mixed')).toBe(2)
})

test('a failing batch writes nothing (all or nothing)', async () => {
  const events = batch('atomic', 10)
  events[7] = { ...events[7]!, timestamp: 'not a timestamp' }
  await expect(writeEventBatch(database.db, events)).rejects.toThrow()
  expect(await countEvents(database, 'atomic')).toBe(0)
})

test('text that looks like SQL quoting is stored exactly as sent', async () => {
  // Batches travel inside the statement text as dollar-quoted JSON (jsonLiteral).
  const tricky = [`$j$'); drop table events; --`, `$jj$ \\ \" ' $j$$jj$`, 'caf\u00e9 \u{1f600} \u0001\t?']
  const [first, ...rest] = batch('quoting', tricky.length)
  const events = [first!, ...rest].map((event, i) => ({ ...event, path: tricky[i]!, userId: tricky[i]!, eventId: tricky[i]! }))
  expect(await writeEventBatch(database.db, events)).toEqual({ inserted: 3, duplicates: 0 })
  const rows = await database.sql<{ path: string; user_id: string; event_id: string }[]>`
    select path, user_id, event_id from events where site_id = 'quoting'`
  const byId = (a: { event_id: string }, b: { event_id: string }) => (a.event_id < b.event_id ? -1 : 1)
  expect([...rows].sort(byId)).toEqual(tricky.map((text) => ({ path: text, user_id: text, event_id: text })).sort(byId))
})

test('an empty batch is a no-op', async () => {
  expect(await writeEventBatch(database.db, [])).toEqual({ inserted: 0, duplicates: 0 })
})

test('concurrent batches for the same site and users count each user once per hour and per day', async () => {
  const siteId = 'racing'
  // Eight batches over the same 40 users, written at once on separate connections; each batch puts
  // a user in one of four hours (over two days), so rows are created by one batch and given new
  // bits by others, and each bit must be counted exactly once.
  const batches = Array.from({ length: 8 }, (_, b) =>
    Array.from({ length: 120 }, (_, i): QueuedEvent => ({
      eventId: `${siteId}-${b}-${i}`,
      siteId,
      eventType: 'page_view',
      path: '/',
      userId: `u${i % 40}`,
      timestamp: new Date(Date.UTC(2025, 10, 14, 22 + (((i % 40) + b) % 4), i % 60)).toISOString(),
      receivedAt: new Date().toISOString(),
    })),
  )
  await Promise.all(batches.map((events) => writeEventBatch(database.db, events)))
  const rollup = await database.sql`select hour, users from rollup_hours where site_id = ${siteId} order by hour`
  const recount = await database.sql`
    select date_trunc('hour', timestamp) as hour, count(distinct user_id)::int as users
      from events where site_id = ${siteId} group by 1 order by 1`
  expect(rollup.length).toBe(4)
  expect([...rollup]).toEqual([...recount])
  const dayRollup = await database.sql`select day::text, users from rollup_days where site_id = ${siteId} order by day`
  const dayRecount = await database.sql`
    select (timestamp at time zone 'UTC')::date::text as day, count(distinct user_id)::int as users
      from events where site_id = ${siteId} group by 1 order by 1`
  expect(dayRollup.length).toBe(2)
  expect([...dayRollup]).toEqual([...dayRecount])
})
