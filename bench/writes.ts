/**
 * The worker's write path alone: `bun bench/writes.ts [--checkout DIR] [--runs 3]`.
 *
 * Writes batches of events in-process with the product's own writeEventBatch (the raw rows,
 * rollups, visits and visit figures of one transaction) into a fresh database, one batch after
 * another, and prints the time per event for two kinds of traffic:
 *   new visitors  each event from one of 100,000 users on one of 50 sites, drawn afresh every
 *                 time (the mix of bench/ingest.ts): nearly every event starts a visit
 *   visits        20,000 users, each on one site, events 0-2 minutes apart with one gap in ten
 *                 of up to 40 minutes: several events per visit, as on a real site
 * Clicks (15%) carry two custom properties.
 * for batches of 20 and of 2,000 events. `--checkout DIR` runs another checkout's write path
 * (for example a worktree of the previous main) in the same way, for a same-run A/B. Medians
 * of --runs runs, each on its own database.
 */
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { median } from './report'

const { values } = parseArgs({
  options: {
    checkout: { type: 'string', default: resolve(import.meta.dir, '..') },
    runs: { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log('Usage: bun bench/writes.ts [--checkout DIR] [--runs N]')
  process.exit(0)
}
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive whole number, got "${values.runs}"`)
  process.exit(2)
}
const root = resolve(values.checkout!)
const { createTestDatabase } = (await import(`${root}/tests/support`)) as typeof import('../tests/support')
const { writeEventBatch } = (await import(`${root}/worker/rollups/postgres`)) as typeof import('../worker/rollups/postgres')

/** A seeded generator, so both sides of an A/B write the same events. */
function generator(seed: number) {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648
}

const site = (r: number) => `site-${String(1 + Math.floor(r ** 3 * 50)).padStart(2, '0')}`
const START = Date.parse('2026-12-01T08:00:00Z')

function traffic(kind: 'new visitors' | 'visits') {
  const random = generator(20261204)
  const users = Array.from({ length: 20_000 }, (_, u) => ({ id: `u${u}`, site: site(random()), at: START + random() * 8 * 3_600_000 }))
  let n = 0
  return (size: number) =>
    Array.from({ length: size }, () => {
      n++
      let siteId: string
      let userId: string | null
      let at: number
      if (kind === 'new visitors') {
        siteId = site(random())
        userId = `u${Math.floor(random() * 100_000)}`
        at = START + n * 10
      } else {
        const user = users[Math.floor(random() ** 1.5 * users.length)]!
        user.at += (random() < 0.1 ? 40 : 2) * 60_000 * random()
        ;({ site: siteId, id: userId, at } = user)
      }
      if (random() < 0.1) userId = null
      const eventType = random() < 0.15 ? 'click' : 'page_view'
      return {
        eventId: `e${n}`,
        siteId,
        eventType,
        path: `/docs/page-${Math.floor(random() ** 3 * 1000)}`,
        userId,
        timestamp: new Date(Math.round(at)).toISOString(),
        receivedAt: new Date().toISOString(),
        referrer: 'https://www.google.com/',
        source: 'Google',
        channel: 'Organic Search',
        browser: 'Chrome',
        os: 'Windows',
        device: 'Desktop',
        country: 'US',
        // Custom properties on the clicks (a checkout without them ignores the field).
        ...(eventType === 'click' ? { props: { plan: 'pro', seats: '3' } } : {}),
      }
    })
}

console.log(`[writes-bench] write path of ${root}, ${runs} run(s) of each`)
for (const kind of ['new visitors', 'visits'] as const) {
  for (const [size, batches] of [
    [20, 300],
    [2_000, 10],
  ] as const) {
    const perEvent: number[] = []
    for (let run = 0; run < runs; run++) {
      const database = await createTestDatabase('writes_bench')
      try {
        const next = traffic(kind)
        const started = performance.now()
        for (let i = 0; i < batches; i++) await writeEventBatch(database.db, next(size))
        perEvent.push(((performance.now() - started) * 1000) / (size * batches))
      } finally {
        await database.drop()
      }
    }
    console.log(
      `${kind.padEnd(12)}  batches of ${String(size).padStart(5)}  ${median(perEvent).toFixed(0).padStart(5)} µs per event  (runs: ${perEvent.map((x) => x.toFixed(0)).join(', ')})`,
    )
  }
}
