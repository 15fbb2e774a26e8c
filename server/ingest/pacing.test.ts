import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { countEvents, startStack, type Stack } from '../../tests/support'

// Pacing from a backlog of 2 events, refusal only past 1,000: between the two, requests wait.
const limits = { maxBacklogEvents: 1_000, paceBacklogEvents: 2, backlogRefreshMs: 0 }
let patient: Stack
let hasty: Stack
// Pacing between 1 and 2 events; jobs of 5 events put the backlog straight past the limit.
let full: Stack
beforeAll(async () => {
  patient = await startStack('pacing', { ingestLimits: { ...limits, paceMaxWaitMs: 60_000 } })
  hasty = await startStack('pacing-bounded', { ingestLimits: { ...limits, paceMaxWaitMs: 200 } })
  full = await startStack('pacing-full', { ingestLimits: { maxBacklogEvents: 2, paceBacklogEvents: 1, paceMaxWaitMs: 60_000, backlogRefreshMs: 0 } })
})
afterAll(() => Promise.all([patient.close(), hasty.close(), full.close()]))

const event = (site: string, i: number) => ({ site_id: site, event_type: 'page_view', path: `/p${i}`, timestamp: '2025-11-14T10:00:00Z' })
const jobIdOf = async (response: Response) => ((await response.json()) as { jobId: string }).jobId

async function pacedEvents(stack: Stack): Promise<number> {
  const text = await (await stack.get('/metrics')).text()
  return Number(
    text
      .split('\n')
      .find((line) => line.startsWith('analytics_ingest_paced_events '))
      ?.split(' ')
      .pop(),
  )
}

/**
 * With the worker paused, posts events one at a time until one is held back (the API reports it
 * as paced before answering). Returns the accepted jobs and the held request.
 */
async function postUntilHeld(stack: Stack, site: string) {
  await stack.worker.pause(true)
  const jobIds: string[] = []
  for (let i = 0; i < 10; i++) {
    let answer: Response | undefined
    const pending = stack.post('/event', event(site, i)).then((response) => (answer = response))
    while (answer === undefined && (await pacedEvents(stack)) === 0);
    if (answer === undefined) return { jobIds, held: pending, events: i + 1 }
    expect(answer.status).toBe(202)
    jobIds.push(await jobIdOf(answer))
  }
  throw new Error('no request was held back')
}

describe('pacing', () => {
  test('past the pacing level a request is held until the backlog shrinks, then accepted', async () => {
    const { jobIds, held, events } = await postUntilHeld(patient, 'paced')
    patient.worker.resume()
    const response = await held
    expect(response.status).toBe(202)
    await patient.jobs.wait([...jobIds, await jobIdOf(response)])
    expect(await countEvents(patient.database, 'paced')).toBe(events)
    expect(await pacedEvents(patient)).toBe(0)
  })

  test('a held request is accepted after paceMaxWaitMs while the backlog is under its limit, even if it has not shrunk', async () => {
    const { jobIds, held, events } = await postUntilHeld(hasty, 'bounded')
    const response = await held
    expect(response.status).toBe(202)
    hasty.worker.resume()
    await hasty.jobs.wait([...jobIds, await jobIdOf(response)])
    expect(await countEvents(hasty.database, 'bounded')).toBe(events)
  })

  test('past the backlog limit a request is refused at once, not held first', async () => {
    await full.worker.pause(true)
    const batch = (i: number) => ({ events: Array.from({ length: 5 }, (_, k) => event('full', i * 5 + k)) })
    const jobIds: string[] = []
    let refused: Response | undefined
    for (let i = 0; i < 5 && !refused; i++) {
      const response = await full.post('/events', batch(i))
      if (response.status === 202) jobIds.push(await jobIdOf(response))
      else refused = response
    }
    // Held for paceMaxWaitMs (60 s) first, this request would outlast the test's timeout.
    expect(refused?.status).toBe(503)
    expect(await refused?.json()).toEqual({ error: 'Event queue backlog is over its limit; retry later', retryAfterSeconds: 10 })
    full.worker.resume()
    await full.jobs.wait(jobIds)
    expect(await countEvents(full.database, 'full')).toBe(jobIds.length * 5)
  })
})
