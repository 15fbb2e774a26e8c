import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { QueuedEvent } from '../../lib/queue'
import { compareText, mergeVisits, visitOf, VISIT_GAP_MS, type Visit } from './merge'

const MINUTE = 60_000
const T0 = Date.parse('2025-11-14T12:00:00Z')

function event(id: string, minutes: number, fields: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    eventId: id,
    siteId: 's',
    eventType: 'page_view',
    path: `/${id}`,
    userId: 'u',
    timestamp: new Date(T0 + minutes * MINUTE).toISOString(),
    receivedAt: new Date(T0).toISOString(),
    source: `source-${id}`,
    ...fields,
  }
}

/** The visits of a full history, recounted plainly: sort, split at gaps over 30 minutes. */
function recount(events: QueuedEvent[]): Visit[] {
  const sorted = [...events].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || compareText(a.eventId, b.eventId))
  const result: Visit[] = []
  let current: QueuedEvent[] = []
  const close = () => {
    if (current.length === 0) return
    const first = current[0]!
    const last = current.at(-1)!
    result.push({
      ...visitOf(first),
      ended_at: Date.parse(last.timestamp),
      last_event_id: last.eventId,
      exit_page: last.path,
      events: current.length,
      views: current.filter((e) => e.eventType === 'page_view').length,
    })
    current = []
  }
  for (const e of sorted) {
    if (current.length > 0 && Date.parse(e.timestamp) - Date.parse(current.at(-1)!.timestamp) > VISIT_GAP_MS) close()
    current.push(e)
  }
  close()
  return result
}

/** Applies batches one after another, as the worker does, keeping the stored visits in memory. */
function applyBatches(batches: QueuedEvent[][]): Visit[] {
  let stored: Visit[] = []
  for (const batch of batches) {
    const { removed, added } = mergeVisits(stored, batch.map(visitOf))
    const gone = new Set(removed)
    stored = [...stored.filter((visit) => !gone.has(visit)), ...added]
  }
  return stored.sort((a, b) => a.started_at - b.started_at)
}

describe('mergeVisits', () => {
  test('gaps of 29 and 30 minutes continue a visit, 31 ends it', () => {
    const visits = applyBatches([[event('a', 0), event('b', 29), event('c', 59), event('d', 90)]])
    expect(visits.map((v) => [v.first_event_id, v.last_event_id, v.events])).toEqual([
      ['a', 'c', 3],
      ['d', 'd', 1],
    ])
  })

  test('a late event that closes a gap merges two visits; one before a visit moves its start and its properties', () => {
    const first = applyBatches([[event('a', 0), event('c', 50)]])
    expect(first).toHaveLength(2)
    const merged = applyBatches([[event('a', 0), event('c', 50)], [event('b', 25)]])
    expect(merged).toHaveLength(1)
    expect(merged[0]).toMatchObject({ first_event_id: 'a', last_event_id: 'c', events: 3, entry_page: '/a', exit_page: '/c', source: 'source-a' })
    const moved = applyBatches([[event('b', 10)], [event('a', -15, { eventType: 'click' })]])
    expect(moved).toHaveLength(1)
    expect(moved[0]).toMatchObject({ first_event_id: 'a', entry_page: '/a', source: 'source-a', views: 1, events: 2, started_at: T0 - 15 * MINUTE })
  })

  test('equal timestamps are ordered by event id', () => {
    const visits = applyBatches([[event('b', 0)], [event('a', 0)]])
    expect(visits[0]).toMatchObject({ first_event_id: 'a', last_event_id: 'b', entry_page: '/a', exit_page: '/b' })
  })

  test('a stored visit that no event touches is left alone', () => {
    const stored = applyBatches([[event('a', 0)]])
    const { removed, added } = mergeVisits(stored, [visitOf(event('z', 200))])
    expect(removed).toEqual([])
    expect(added.map((v) => v.first_event_id)).toEqual(['z'])
  })

  test('any arrival order and batching gives the visits of the whole history', () => {
    const history = fc.array(fc.record({ minute: fc.integer({ min: 0, max: 400 }), view: fc.boolean() }), { minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(history, fc.infiniteStream(fc.integer({ min: 0, max: 1_000_000 })), (items, randoms) => {
        const events = items.map((item, i) => event(`e${String(i).padStart(3, '0')}`, item.minute, { eventType: item.view ? 'page_view' : 'click' }))
        const shuffled = [...events]
        const stream = randoms[Symbol.iterator]()
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = stream.next().value % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        const batches: QueuedEvent[][] = []
        for (let i = 0; i < shuffled.length;) {
          const size = 1 + (stream.next().value % 5)
          batches.push(shuffled.slice(i, i + size))
          i += size
        }
        expect(applyBatches(batches)).toEqual(recount(events))
      }),
      { numRuns: 300 },
    )
  })

  test('compareText sorts by code point, as Postgres "C" does', () => {
    const words = ['a', 'b', '\u{1F600}', '\uFFFD', '\uE000', 'ab', '']
    const bytes = (s: string) => Buffer.from(s, 'utf8')
    expect([...words].sort(compareText)).toEqual([...words].sort((a, b) => Buffer.compare(bytes(a), bytes(b))))
  })
})
