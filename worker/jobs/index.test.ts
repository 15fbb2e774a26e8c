import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Job } from 'bullmq'
import { INGEST_JOB, REBUILD_JOB } from '../../lib/queue'
import { startStack, type Stack } from '../../tests/support'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('router')
})
afterAll(() => stack.close())

/** Adds a job the API would never add (with retries left) and resolves with it once it has failed. */
async function failedJob(name: string, data: unknown): Promise<{ job: Job; error: Error }> {
  return new Promise((resolve, reject) => {
    const listener = (job: Job | undefined, error: Error) => {
      if (job?.name !== name) return
      stack.worker.off('failed', listener)
      resolve({ job, error })
    }
    stack.worker.on('failed', listener)
    stack.queue.add(name as typeof INGEST_JOB, data as never, { attempts: 5 }).catch(reject)
  })
}

test.each([
  ['an unknown job name', 'no-such-job', { events: [] }, 'unknown job name no-such-job'],
  ['an ingest job without a list of events', INGEST_JOB, { events: 'many' }, 'ingest job data has no events list'],
  ['a rebuild job without a site', REBUILD_JOB, {}, 'rebuild job data has no site id'],
])('%s fails for good at its first attempt', async (_, name, data, message) => {
  const { job, error } = await failedJob(name, data)
  expect(error.name).toBe('UnrecoverableError')
  expect(error.message).toBe(message)
  expect(job.attemptsMade).toBe(1)
  expect(await stack.queue.getJobState(job.id!)).toBe('failed')
})
