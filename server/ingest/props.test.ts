/** Custom properties on POST /event and /events: stored as text when good, refused naming the key when not. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { countEvents, startStack, type Stack } from '../../tests/support'
import { propsProblems, storedProps } from './model'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('props')
})
afterAll(() => stack.close())

const valid = { site_id: 'props-site', event_type: 'signup', path: '/join', user_id: 'u1', timestamp: '2025-11-14T10:30:00Z' }
const thirtyOne = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i]))

describe('bad props are refused with a sentence naming the key, and store nothing', () => {
  test.each([
    [{ props: { plan: { tier: 'pro' } } }, 'props.plan must be a string, number or boolean'],
    [{ props: { plan: null } }, 'props.plan must be a string, number or boolean'],
    [{ props: { tags: ['a', 'b'] } }, 'props.tags must be a string, number or boolean'],
    [{ props: { plan: 'x'.repeat(301) } }, 'props.plan must be at most 300 characters'],
    [{ props: { plan: 'a\u0000b' } }, 'props.plan must not contain NUL characters or unpaired surrogates'],
    [{ props: { 'has space': 'x' } }, 'props key "has space" must be 1 to 64 letters, digits, _, - or .'],
    [{ props: { '': 'x' } }, 'props key "" must be 1 to 64 letters, digits, _, - or .'],
    [{ props: { ['k'.repeat(65)]: 'x' } }, `props key "${'k'.repeat(65)}" must be 1 to 64 letters, digits, _, - or .`],
    [{ props: thirtyOne }, 'props must have at most 30 keys; it has 31'],
    [{ props: 'plan=pro' }, 'props must be an object'],
    [{ props: ['pro'] }, 'props must be an object'],
    [{ props: null }, 'props must be an object'],
  ])('%p', async (fields, detail) => {
    const site = `bad-${Math.random().toString(36).slice(2)}`
    const single = await stack.post('/event', { ...valid, site_id: site, ...fields })
    expect(single.status).toBe(400)
    expect(await single.json()).toEqual({ error: 'Invalid payload', details: [detail] })
    const batch = await stack.post('/events', {
      events: [
        { ...valid, site_id: site, ...fields },
        { ...valid, site_id: site, event_id: 'fine' },
      ],
    })
    expect(batch.status).toBe(202)
    expect(((await batch.json()) as { results: unknown[] }).results[0]).toEqual({ index: 0, status: 'refused', errors: [detail] })
    await stack.flush()
    // Only the good event of the batch is queued.
    const [row] = await stack.database.sql<{ refused: number; reasons: string[] }[]>`
      select l.refused::int, array(select reason from ingest_refusals r where r.site_id = l.site_id) as reasons
        from ingest_ledger l where site_id = ${site}`
    expect(row).toEqual({ refused: 2, reasons: ['invalid props'] })
  })

  test('a number too large for JSON text (1e999 reads as Infinity) is refused', async () => {
    const response = await stack.post('/event', `{"site_id":"props-inf","event_type":"x","path":"/","timestamp":"2025-11-14T10:30:00Z","props":{"n":1e999}}`)
    expect(await response.json()).toEqual({ error: 'Invalid payload', details: ['props.n must be a finite number'] })
    await stack.flush()
    expect(await countEvents(stack.database, 'props-inf')).toBe(0)
  })
})

describe('good props are stored as text', () => {
  test('strings as sent, numbers and booleans as their JSON text, "" as no value; 30 keys; no props or {} store null', async () => {
    const thirty = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k.${i}-_`, 'v']))
    const bodies = [
      { ...valid, event_id: 'a', props: { plan: 'pro', seats: 3, ratio: 2.5, big: 1e21, trial: false, empty: '' } },
      { ...valid, event_id: 'b', props: thirty },
      { ...valid, event_id: 'c', props: {} },
      { ...valid, event_id: 'd' },
    ]
    const response = await stack.post('/events', { events: bodies })
    expect(response.status).toBe(202)
    await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
    const rows = await stack.database.sql<{ event_id: string; props: Record<string, string> | null }[]>`
      select event_id, props from events where site_id = 'props-site' order by event_id`
    expect(rows.map((row) => [row.event_id, row.props])).toEqual([
      ['a', { plan: 'pro', seats: '3', ratio: '2.5', big: '1e+21', trial: 'false' }],
      ['b', thirty],
      ['c', null],
      ['d', null],
    ])
  })

  test('the rules by themselves', () => {
    expect(propsProblems(undefined)).toEqual([])
    expect(propsProblems({ a: 1, 'b c': 2, d: {} })).toEqual([
      'props key "b c" must be 1 to 64 letters, digits, _, - or .',
      'props.d must be a string, number or boolean',
    ])
    expect(storedProps({ n: -0.5, t: true })).toEqual({ n: '-0.5', t: 'true' })
    expect(storedProps({ empty: '' })).toBeUndefined()
  })
})
