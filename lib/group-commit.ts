/**
 * Adaptive group commit. With fewer than `maxInFlight` sends under way, items are sent at once,
 * so a lone item waits for nothing. Items that arrive while the senders are busy wait for one to
 * finish and then leave together in its next batch, so under load one round trip carries many.
 * Every caller's promise settles only when the batch carrying its items has been acknowledged.
 * The API uses it in front of Redis, the worker in front of Postgres.
 *
 * Kept by hand: batching libraries (p-batch, dataloader) flush on a timer or a tick, which would
 * make a lone event wait; this one sends at once when idle and batches only under load.
 */
export interface GroupCommitLimits {
  /** Most items in one batch. One caller's items are never split across batches. */
  maxBatchItems: number
  /** Most items held (waiting or in flight) before new ones are refused. */
  maxPendingItems: number
  /** Most bytes held before new ones are refused. */
  maxPendingBytes: number
  /** Sends under way at once. */
  maxInFlight: number
}

export class BufferFullError extends Error {
  override name = 'BufferFullError'
}

interface Entry<T, R> {
  items: T[]
  bytes: number
  resolve(result: R): void
  reject(error: unknown): void
}

export interface GroupCommitStats {
  pendingItems: number
  pendingBytes: number
  batchesSent: number
  itemsSent: number
}

export interface GroupCommit<T, R> {
  add(items: T[], bytes: number): Promise<R>
  stats(): GroupCommitStats
  /** Resolves when everything added so far has been sent and acknowledged (or refused). */
  drain(): Promise<void>
}

export function createGroupCommit<T, R>(send: (items: T[]) => Promise<R>, limits: GroupCommitLimits): GroupCommit<T, R> {
  let waiting: Entry<T, R>[] = []
  const senders = new Set<Promise<void>>()
  // Counted inside sender() itself, so a sender that has just found the line empty is no longer
  // busy in the same tick: an item added right then starts a new one instead of being stranded.
  let busy = 0
  let pendingItems = 0
  let pendingBytes = 0
  let batchesSent = 0
  let itemsSent = 0

  /** Takes whole entries from the head of the line, up to maxBatchItems (always at least one). */
  function takeBatch(): Entry<T, R>[] {
    let count = 0
    let cut = 0
    while (cut < waiting.length && (cut === 0 || count + waiting[cut]!.items.length <= limits.maxBatchItems)) {
      count += waiting[cut]!.items.length
      cut += 1
    }
    const batch = waiting.slice(0, cut)
    waiting = waiting.slice(cut)
    return batch
  }

  async function sender(): Promise<void> {
    busy += 1
    try {
      while (waiting.length > 0) {
        const batch = takeBatch()
        const items = batch.length === 1 ? batch[0]!.items : batch.flatMap((entry) => entry.items)
        try {
          const result = await send(items)
          batchesSent += 1
          itemsSent += items.length
          for (const entry of batch) entry.resolve(result)
        } catch (error) {
          for (const entry of batch) entry.reject(error)
        } finally {
          for (const entry of batch) {
            pendingItems -= entry.items.length
            pendingBytes -= entry.bytes
          }
        }
      }
    } finally {
      busy -= 1
    }
  }

  function startSender() {
    const running: Promise<void> = sender().finally(() => senders.delete(running))
    senders.add(running)
  }

  return {
    add(items, bytes) {
      if (pendingItems + items.length > limits.maxPendingItems || pendingBytes + bytes > limits.maxPendingBytes) {
        return Promise.reject(new BufferFullError('buffer is full'))
      }
      pendingItems += items.length
      pendingBytes += bytes
      const accepted = new Promise<R>((resolve, reject) => waiting.push({ items, bytes, resolve, reject }))
      if (busy < limits.maxInFlight) startSender()
      return accepted
    },
    stats: () => ({ pendingItems, pendingBytes, batchesSent, itemsSent }),
    async drain() {
      while (senders.size > 0) await Promise.all(senders)
    },
  }
}
