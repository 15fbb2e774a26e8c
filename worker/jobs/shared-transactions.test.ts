import { afterAll, beforeAll, expect, test } from 'bun:test'
import { countEvents, startStack, type Stack } from '../../tests/support'
import { INGEST_JOB, type QueuedEvent } from '../../lib/queue'
import { partitionOf } from './ingest'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('shared_tx')
})
afterAll(() => stack.close())

let n = 0
const events = (site: string, count: number, timestamp = '2025-11-14T10:00:00Z'): QueuedEvent[] =>
  Array.from({ length: count }, () => ({
    eventId: `e${++n}`,
    siteId: site,
    eventType: 'page_view',
    path: '/',
    userId: `u${n % 7}`,
    timestamp,
    receivedAt: timestamp,
  }))

const transactions = async () =>
  (await stack.workerMetrics.writeSeconds.get()).values.find((value) => value.metricName === 'analytics_db_write_seconds_count')?.value ?? 0

test('many small jobs waiting together are written in far fewer transactions, each job exactly once', async () => {
  await stack.worker.pause(true)
  const jobs = await Promise.all(Array.from({ length: 40 }, () => stack.queue.add(INGEST_JOB, { events: events('many', 5) })))
  const before = await transactions()
  stack.worker.resume()
  await stack.jobs.wait(jobs.map((job) => job.id!))
  expect(await countEvents(stack.database, 'many')).toBe(200)
  expect((await transactions()) - before).toBeLessThan(40)
})

test('a job that cannot be written fails alone; the jobs it was combined with are written', async () => {
  await stack.worker.pause(true)
  const good = await Promise.all(Array.from({ length: 5 }, () => stack.queue.add(INGEST_JOB, { events: events('poison-neighbours', 3) })))
  // A timestamp Postgres refuses: the statement fails for this data, not for an outage.
  const bad = await stack.queue.add(INGEST_JOB, { events: events('poison', 1, 'not a timestamp') }, { attempts: 1 })
  stack.worker.resume()
  await stack.jobs.wait(good.map((job) => job.id!))
  expect(await countEvents(stack.database, 'poison-neighbours')).toBe(15)
  await expect(stack.jobs.wait([bad.id!])).rejects.toThrow()
  expect(await countEvents(stack.database, 'poison')).toBe(0)
})

test('a site always goes to the same writer, and sites spread over all writers', () => {
  const sites = Array.from({ length: 200 }, (_, i) => `site-${i}`)
  const partitions = sites.map((site) => partitionOf(site, 5))
  expect(sites.map((site) => partitionOf(site, 5))).toEqual(partitions)
  expect(new Set(partitions)).toEqual(new Set([0, 1, 2, 3, 4]))
})
