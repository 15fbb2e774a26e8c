import { afterAll, beforeAll, expect, test } from 'bun:test'
import { countEvents, startStack, type Stack } from '../tests/support'
import { INGEST_JOB, type QueuedEvent } from '../lib/queue'
import { heldJobs } from './worker'

const prefetch = { jobs: 20, events: 1_000 }
let stack: Stack
beforeAll(async () => {
  stack = await startStack('held_jobs', { workerPrefetch: prefetch })
})
afterAll(() => stack.close())

let n = 0
const events = (site: string, count: number): QueuedEvent[] =>
  Array.from({ length: count }, () => ({
    eventId: `e${++n}`,
    siteId: site,
    eventType: 'page_view',
    path: '/',
    userId: `u${n % 7}`,
    timestamp: '2025-11-14T10:00:00Z',
    receivedAt: '2025-11-14T10:00:00Z',
  }))

test('heldJobs: as many jobs as carry the events, between one and the most jobs', () => {
  expect(heldJobs(prefetch, 1)).toBe(20)
  expect(heldJobs(prefetch, 50)).toBe(20)
  expect(heldJobs(prefetch, 99)).toBe(10)
  expect(heldJobs(prefetch, 5_000)).toBe(1)
  expect(heldJobs(prefetch, 0)).toBe(20)
})

/** Adds jobs while the worker is paused, then lets it take them all; resolves with the most it ran at once. */
async function runJobs(site: string, jobs: number, eventsPerJob: number): Promise<number> {
  await stack.worker.pause(true)
  const added = await Promise.all(Array.from({ length: jobs }, () => stack.queue.add(INGEST_JOB, { events: events(site, eventsPerJob) })))
  let active = 0
  let most = 0
  const start = () => (most = Math.max(most, ++active))
  const end = () => active--
  stack.worker.on('active', start)
  stack.worker.on('completed', end)
  try {
    stack.worker.resume()
    await stack.jobs.wait(added.map((job) => job.id!))
  } finally {
    stack.worker.off('active', start)
    stack.worker.off('completed', end)
  }
  expect(await countEvents(stack.database, site)).toBe(jobs * eventsPerJob)
  return most
}

test('large jobs are held few at a time, small ones many at a time', async () => {
  // Until it has seen a job, the worker takes jobs to be as large as a transaction (5,000 events here).
  expect(stack.worker.concurrency).toBe(1)
  // 99 events a job: never more than ten (990 events) at once.
  expect(await runJobs('large-jobs', 40, 99)).toBeLessThanOrEqual(10)
  expect(stack.worker.concurrency).toBe(10)
  await runJobs('small-jobs', 40, 1)
  expect(stack.worker.concurrency).toBe(20)
})
