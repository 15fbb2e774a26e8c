import { afterAll, beforeAll, expect, test } from 'bun:test'
import { MAX_RECENT_HOURS } from '../../lib/ledger'
import { silentLogger } from '../../lib/log'
import { createWorkerConnection, PRUNE_JOB } from '../../lib/queue'
import { startStack, testEnv, type Stack } from '../../tests/support'
import { REALTIME_WINDOW_MS } from '../rollups/deltas'
import { createMaintenanceWorker, type MaintenanceWorker } from '../worker'
import { PRUNE_EVERY_MS, PRUNE_SCHEDULER, schedulePrune } from './prune'

let stack: Stack
const connection = createWorkerConnection(testEnv.redis)
const workers: MaintenanceWorker[] = []
beforeAll(async () => {
  stack = await startStack('prune')
})
afterAll(async () => {
  await workers[0]?.queue.obliterate({ force: true })
  await Promise.all(workers.map((worker) => worker.close()))
  await connection.quit()
  await stack.close()
})

/** What worker/index.ts does at start for the maintenance queue; `prepare` runs before the scheduler is registered. */
async function startMaintenance(prepare: (maintenance: MaintenanceWorker) => void = () => {}): Promise<MaintenanceWorker> {
  const maintenance = createMaintenanceWorker({ connection, location: stack.location, db: stack.database.db, log: silentLogger })
  workers.push(maintenance)
  prepare(maintenance)
  await schedulePrune(maintenance.queue)
  return maintenance
}

test('a starting worker schedules the prune job, which removes realtime rows and refusal hours older than their windows', async () => {
  const minute = (agoMs: number) => new Date(Math.floor((Date.now() - agoMs) / 60_000) * 60_000).toISOString()
  const old = minute(REALTIME_WINDOW_MS + 10 * 60_000)
  const recent = minute(5 * 60_000)
  await stack.database.sql`insert into rollup_minutes (site_id, minute, events) values ('p', ${old}, 3), ('p', ${recent}, 4)`
  await stack.database.sql`insert into minute_users (site_id, minute, user_id) values ('p', ${old}, 'u1'), ('p', ${recent}, 'u2')`
  // The oldest hour a ledger question can reach stays; the one before it goes.
  await stack.database.sql`
    insert into ingest_refusal_hours (site_id, hour, reason, count)
    select 'p', date_trunc('hour', now()) - make_interval(hours => ago), 'bot', ago
      from unnest(array[0, ${MAX_RECENT_HOURS - 1}::int, ${MAX_RECENT_HOURS}::int]) as ago`

  // Listening before the scheduler exists: its first job runs at once.
  let pruned!: () => void
  const done = new Promise<void>((resolve) => (pruned = resolve))
  const first = await startMaintenance((maintenance) => maintenance.worker.on('completed', (job) => job.name === PRUNE_JOB && pruned()))
  await done

  const [scheduler] = await first.queue.getJobSchedulers()
  expect(scheduler).toMatchObject({ key: PRUNE_SCHEDULER, name: PRUNE_JOB, every: PRUNE_EVERY_MS })
  expect([...(await stack.database.sql`select events from rollup_minutes where site_id = 'p'`)]).toEqual([{ events: 4 }])
  expect([...(await stack.database.sql`select user_id from minute_users where site_id = 'p'`)]).toEqual([{ user_id: 'u2' }])
  expect([...(await stack.database.sql`select count::int from ingest_refusal_hours where site_id = 'p' order by count`)]).toEqual([
    { count: 0 },
    { count: MAX_RECENT_HOURS - 1 },
  ])
})

test('workers started later keep the one scheduler', async () => {
  await startMaintenance()
  const second = await startMaintenance()
  expect(await second.queue.getJobSchedulersCount()).toBe(1)
  // The ingest queue's counts stay free of scheduled upkeep.
  expect(await stack.queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 })
})
