import { expect, test } from 'bun:test'
import type { QueuedEvent } from './queue'
import { BufferFullError, createGroupCommit, type GroupCommitLimits } from './group-commit'

/** A send whose acknowledgements the test releases one at a time, recording every batch. */
function controlledSend() {
  const batches: QueuedEvent[][] = []
  const acks: { resolve(id: string): void; reject(error: Error): void }[] = []
  const send = (events: QueuedEvent[]) => {
    batches.push(events)
    return new Promise<string>((resolve, reject) => acks.push({ resolve, reject }))
  }
  return { send, batches, acks }
}

const limits: GroupCommitLimits = { maxBatchItems: 5, maxPendingItems: 20, maxPendingBytes: 10_000, maxInFlight: 1 }
let n = 0
const event = (): QueuedEvent => ({ eventId: `e${++n}`, siteId: 's', eventType: 'page_view', path: '/', userId: null, timestamp: '', receivedAt: '' })

test('a lone event is sent at once, alone', async () => {
  const { send, batches, acks } = controlledSend()
  const buffer = createGroupCommit<QueuedEvent, string>(send, limits)
  const first = event()
  const accepted = buffer.add([first], 100)
  expect(batches).toEqual([[first]])
  acks[0]!.resolve('job-1')
  expect(await accepted).toBe('job-1')
})

test('events arriving during a send leave together in the next batch and share its job id', async () => {
  const { send, batches, acks } = controlledSend()
  const buffer = createGroupCommit<QueuedEvent, string>(send, limits)
  const lone = buffer.add([event()], 100)
  const joined = [buffer.add([event()], 100), buffer.add([event(), event()], 100), buffer.add([event()], 100)]
  expect(batches.length).toBe(1) // nothing more leaves while the first send is unacknowledged
  acks[0]!.resolve('job-1')
  expect(await lone).toBe('job-1')
  expect(batches.length).toBe(2)
  expect(batches[1]!.length).toBe(4)
  acks[1]!.resolve('job-2')
  expect(await Promise.all(joined)).toEqual(['job-2', 'job-2', 'job-2'])
  expect(buffer.stats()).toMatchObject({ pendingItems: 0, pendingBytes: 0, batchesSent: 2, itemsSent: 5 })
})

test('a batch holds at most maxBatchItems, and a request is never split', async () => {
  const { send, batches, acks } = controlledSend()
  const buffer = createGroupCommit<QueuedEvent, string>(send, limits)
  const all = [buffer.add([event()], 1), buffer.add([event(), event(), event()], 1), buffer.add([event(), event(), event()], 1), buffer.add([event()], 1)]
  acks[0]!.resolve('a')
  await all[0]
  expect(batches[1]!.length).toBe(3) // 3 + 3 would pass 5
  acks[1]!.resolve('b')
  await all[1]
  expect(batches[2]!.length).toBe(4)
  acks[2]!.resolve('c')
  expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'c'])
})

test('a failed send rejects exactly the callers in that batch; later batches go on', async () => {
  const { send, acks } = controlledSend()
  const buffer = createGroupCommit<QueuedEvent, string>(send, limits)
  const first = buffer.add([event()], 1)
  const second = buffer.add([event()], 1)
  acks[0]!.reject(new Error('redis down'))
  await expect(first).rejects.toThrow('redis down')
  acks[1]!.resolve('job-2')
  expect(await second).toBe('job-2')
})

test('the buffer refuses events beyond its limits instead of growing', async () => {
  const { send, acks } = controlledSend()
  const buffer = createGroupCommit<QueuedEvent, string>(send, { ...limits, maxPendingItems: 3, maxPendingBytes: 250 })
  const held = [buffer.add([event(), event()], 100)]
  await expect(buffer.add([event(), event()], 10)).rejects.toBeInstanceOf(BufferFullError) // events
  held.push(buffer.add([event()], 100))
  await expect(buffer.add([], 100)).rejects.toBeInstanceOf(BufferFullError) // bytes
  acks[0]!.resolve('a')
  await held[0]
  acks[1]!.resolve('b')
  await held[1]
  expect(buffer.stats().pendingItems).toBe(0)
  const later = buffer.add([event(), event()], 100) // room again once acknowledged
  acks[2]!.resolve('c')
  expect(await later).toBe('c')
})

test('with several sends allowed, each starts at once until all are busy; later items share the next free one', async () => {
  const { send, batches, acks } = controlledSend()
  const buffer = createGroupCommit<QueuedEvent, string>(send, { ...limits, maxInFlight: 2 })
  const first = buffer.add([event()], 1)
  const second = buffer.add([event()], 1)
  const later = [buffer.add([event()], 1), buffer.add([event()], 1)]
  expect(batches.map((b) => b.length)).toEqual([1, 1]) // two sends under way, two items waiting
  acks[1]!.resolve('b')
  expect(await second).toBe('b')
  expect(batches.map((b) => b.length)).toEqual([1, 1, 2])
  acks[0]!.resolve('a')
  acks[2]!.resolve('c')
  expect(await first).toBe('a')
  expect(await Promise.all(later)).toEqual(['c', 'c'])
  await buffer.drain()
})
