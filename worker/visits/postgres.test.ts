import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { createTestDatabase, type TestDatabase } from '../../tests/support'
import type { QueuedEvent } from '../../lib/queue'
import { rebuildRollups } from '../jobs/rebuild'
import { writeEventBatch } from '../rollups/postgres'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase('visits')
})
afterAll(() => database.drop())

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
}

function history(siteId: string, size: number, next: () => number, steps = 200): QueuedEvent[] {
  const start = Date.parse('2025-11-14T00:00:00Z')
  return Array.from({ length: size }, (_, i) => ({
    eventId: `e${String(i).padStart(5, '0')}`,
    siteId,
    eventType: next() < 0.7 ? 'page_view' : 'click',
    path: `/p${Math.floor(next() * 6)}`,
    userId: next() < 0.15 ? null : `u${Math.floor(next() * 12)}`,
    // Minutes on a coarse grid, so gaps of exactly 30 minutes and equal timestamps occur.
    timestamp: new Date(start + Math.floor(next() * steps) * 5 * 60_000).toISOString(),
    receivedAt: new Date().toISOString(),
    source: `s${i % 4}`,
    channel: 'Referral',
    referrer: `https://r${i % 4}.example/`,
    country: i % 2 ? 'FR' : null,
  }))
}

const storedVisits = (siteId: string) =>
  database.db.execute(sql`
    select visitor_id, anonymous, started_at::text, ended_at::text, first_event_id, last_event_id, events, views, entry_page, exit_page, source, referrer, country
      from visits where site_id = ${siteId} order by visitor_id, anonymous, started_at`)

/** The visit figures per day and value, and the visitors' day bits, as kept for a site. */
const visitFigures = async (siteId: string) => ({
  days: await database.db.execute(sql`
    select property, day::text, value, visits, visitors, anonymous, bounces, duration_ms, views from visit_days
     where site_id = ${siteId} and visitors > 0 order by property, day, value collate "C"`),
  bits: await database.db.execute(sql`
    select property, month::text, value_key, visitor_key, days from value_visitors
     where site_id = ${siteId} and days <> 0 order by property, month, value_key, visitor_key`),
})

async function writeShuffled(events: QueuedEvent[], next: () => number) {
  const shuffled = [...events].sort(() => next() - 0.5)
  for (let i = 0; i < shuffled.length;) {
    const size = 1 + Math.floor(next() * 40)
    await writeEventBatch(database.db, shuffled.slice(i, i + size))
    // A redelivered job changes nothing.
    if (next() < 0.2) await writeEventBatch(database.db, shuffled.slice(i, i + size))
    i += size
  }
}

test('visits written batch by batch, in shuffled order and with redeliveries, equal the visits a rebuild computes', async () => {
  const next = random(7)
  const events = history('live', 600, next)
  await writeShuffled(events, next)
  const live = await storedVisits('live')
  expect(live.length).toBeGreaterThan(50)
  const figures = await visitFigures('live')
  await rebuildRollups(database.db, 'live')
  expect(await storedVisits('live')).toEqual(live)
  expect(await visitFigures('live')).toEqual(figures)
  // A rebuild of a range in the middle keeps the visits that cross its bounds whole.
  await rebuildRollups(database.db, 'live', { from: '2025-11-14', to: '2025-11-14' })
  expect(await storedVisits('live')).toEqual(live)
  const [{ events: counted }] = (await database.db.execute(sql`select sum(events)::int as events from visits where site_id = 'live'`)) as unknown as [
    { events: number },
  ]
  expect(counted).toBe(events.length)
})

test('visit figures per day and value kept batch by batch equal a rebuild, over days of a zone with DST and month ends', async () => {
  const next = random(11)
  await database.db.execute(sql`insert into sites (site_id, timezone, rollup_timezone) values ('zoned', 'America/New_York', 'America/New_York')`)
  // Around the end of daylight saving time in New York (2025-11-02) and the end of October.
  const events = history('zoned', 900, next, 1200).map((event) => ({
    ...event,
    timestamp: new Date(Date.parse(event.timestamp) - 13 * 86_400_000).toISOString(),
  }))
  await writeShuffled(events, next)
  const figures = await visitFigures('zoned')
  expect(new Set(figures.days.map((row) => (row as { day: string }).day)).size).toBeGreaterThan(3)
  await rebuildRollups(database.db, 'zoned')
  expect(await visitFigures('zoned')).toEqual(figures)
})

// Over the sites the tests above wrote, batch by batch.
test('migration 0013 fills visit figures from stored visits and page views as the worker keeps them', async () => {
  const figures = await visitFigures('zoned')
  const statements = readFileSync(join(import.meta.dir, '../../drizzle/migrations/0013_visit_days.sql'), 'utf8')
    .split('--> statement-breakpoint')
    .filter((statement) => !statement.trim().startsWith('CREATE TABLE'))
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`delete from visit_days`)
    await tx.execute(sql`delete from value_visitors`)
    for (const statement of statements) await tx.execute(sql.raw(statement))
  })
  expect((await visitFigures('zoned')).days.length).toBeGreaterThan(100)
  expect(await visitFigures('zoned')).toEqual(figures)
})
