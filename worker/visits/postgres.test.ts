import { afterAll, beforeAll, expect, test } from 'bun:test'
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

function history(siteId: string, size: number, next: () => number): QueuedEvent[] {
  const start = Date.parse('2025-11-14T00:00:00Z')
  return Array.from({ length: size }, (_, i) => ({
    eventId: `e${String(i).padStart(5, '0')}`,
    siteId,
    eventType: next() < 0.7 ? 'page_view' : 'click',
    path: `/p${Math.floor(next() * 6)}`,
    userId: next() < 0.15 ? null : `u${Math.floor(next() * 12)}`,
    // Minutes on a coarse grid, so gaps of exactly 30 minutes and equal timestamps occur.
    timestamp: new Date(start + Math.floor(next() * 200) * 5 * 60_000).toISOString(),
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

test('visits written batch by batch, in shuffled order and with redeliveries, equal the visits a rebuild computes', async () => {
  const next = random(7)
  const events = history('live', 600, next)
  const shuffled = [...events].sort(() => next() - 0.5)
  for (let i = 0; i < shuffled.length;) {
    const size = 1 + Math.floor(next() * 40)
    await writeEventBatch(database.db, shuffled.slice(i, i + size))
    // A redelivered job changes nothing.
    if (next() < 0.2) await writeEventBatch(database.db, shuffled.slice(i, i + size))
    i += size
  }
  const live = await storedVisits('live')
  expect(live.length).toBeGreaterThan(50)
  await rebuildRollups(database.db, 'live')
  expect(await storedVisits('live')).toEqual(live)
  // A rebuild of a range in the middle keeps the visits that cross its bounds whole.
  await rebuildRollups(database.db, 'live', { from: '2025-11-14', to: '2025-11-14' })
  expect(await storedVisits('live')).toEqual(live)
  const [{ events: counted }] = (await database.db.execute(sql`select sum(events)::int as events from visits where site_id = 'live'`)) as unknown as [
    { events: number },
  ]
  expect(counted).toBe(events.length)
})
