import type { QueuedEvent } from '../../worker/queues'

/**
 * Adaptive group commit. With nothing in flight, events are sent at once, so a lone event waits
 * for nothing. Events that arrive while a send is in flight wait for it to finish and then leave
 * together in the next batch, so under load one Redis round trip carries many events. Every
 * caller's promise settles only when the batch carrying its events has been acknowledged.
 */
export interface GroupCommitLimits {
  /** Most events in one job. A request's events are never split across jobs. */
  maxBatchEvents: number
  /** Most events held in memory (waiting or in flight) before new ones are refused. */
  maxPendingEvents: number
  /** Most request bytes held in memory before new ones are refused. */
  maxPendingBytes: number
}

export class BufferFullError extends Error {
  override name = 'BufferFullError'
}

interface Entry {
  events: QueuedEvent[]
  bytes: number
  resolve(jobId: string): void
  reject(error: unknown): void
}

export interface GroupCommitStats {
  pendingEvents: number
  pendingBytes: number
  batchesSent: number
  eventsSent: number
}

export interface GroupCommit {
  add(events: QueuedEvent[], bytes: number): Promise<string>
  stats(): GroupCommitStats
  /** Resolves when everything added so far has been sent and acknowledged (or refused). */
  drain(): Promise<void>
}

export function createGroupCommit(send: (events: QueuedEvent[]) => Promise<string>, limits: GroupCommitLimits): GroupCommit {
  let waiting: Entry[] = []
  let inFlight: Promise<void> | undefined
  let pendingEvents = 0
  let pendingBytes = 0
  let batchesSent = 0
  let eventsSent = 0

  /** Takes whole entries from the head of the line, up to maxBatchEvents (always at least one). */
  function takeBatch(): Entry[] {
    let count = 0
    let cut = 0
    while (cut < waiting.length && (cut === 0 || count + waiting[cut]!.events.length <= limits.maxBatchEvents)) {
      count += waiting[cut]!.events.length
      cut += 1
    }
    const batch = waiting.slice(0, cut)
    waiting = waiting.slice(cut)
    return batch
  }

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const batch = takeBatch()
      const events = batch.length === 1 ? batch[0]!.events : batch.flatMap((entry) => entry.events)
      try {
        const jobId = await send(events)
        batchesSent += 1
        eventsSent += events.length
        for (const entry of batch) entry.resolve(jobId)
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      } finally {
        for (const entry of batch) {
          pendingEvents -= entry.events.length
          pendingBytes -= entry.bytes
        }
      }
    }
    inFlight = undefined
  }

  return {
    add(events, bytes) {
      if (pendingEvents + events.length > limits.maxPendingEvents || pendingBytes + bytes > limits.maxPendingBytes) {
        return Promise.reject(new BufferFullError('ingest buffer is full'))
      }
      pendingEvents += events.length
      pendingBytes += bytes
      const accepted = new Promise<string>((resolve, reject) => waiting.push({ events, bytes, resolve, reject }))
      inFlight ??= flush()
      return accepted
    },
    stats: () => ({ pendingEvents, pendingBytes, batchesSent, eventsSent }),
    async drain() {
      while (inFlight) await inFlight
    },
  }
}
