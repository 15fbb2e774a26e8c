/**
 * A response body fed by a database cursor: the next batch of rows is asked for only once the
 * client has taken the previous one (the stream's pull), so the API holds a batch or two whatever
 * the number of rows; a client that goes away stops the cursor at its next batch.
 */

/** Hands the cursor's batches on; resolves to false when the cursor must close instead of reading on. */
export type OnRows<Row> = (rows: Row[]) => Promise<boolean>

export interface CursorBody<Row> {
  /** Written before the rows (a CSV header), or ''. */
  head: string
  encode: (rows: Row[]) => string
  /** Runs the cursor, handing each batch to `onRows`; resolves when it is done or closed. */
  run: (onRows: OnRows<Row>) => Promise<unknown>
  /** Aborted when the client disconnects (Request.signal). */
  signal: AbortSignal
  /**
   * How long the client may take nothing before the download is cut off and the cursor closed:
   * Bun keeps a connection whose client stopped reading open, and the cursor's connection with it.
   */
  stallMs: number
  /** A failure after the answer began: the download is cut off, and only the log can say why. */
  onLateError: (error: unknown) => void
}

/**
 * The body, once the first batch is in (or the cursor ended without rows): a query that fails at
 * once is then an error answer rather than a download cut off after its header.
 */
export function cursorBody<Row>(options: CursorBody<Row>): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  // The cursor's wait for the client to want more: resolved with true to read on, false to close.
  let wake: ((more: boolean) => void) | undefined
  let stopped = false
  let stalled = false
  const stop = () => {
    stopped = true
    wake?.(false)
    wake = undefined
  }
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
      if (options.head) c.enqueue(encoder.encode(options.head))
    },
    pull() {
      wake?.(true)
      wake = undefined
    },
    cancel: stop,
  })
  if (options.signal.aborted) stop()
  else options.signal.addEventListener('abort', stop, { once: true })

  let begun = false
  return new Promise((resolve, reject) => {
    options
      .run(async (rows) => {
        if (stopped) return false
        controller.enqueue(encoder.encode(options.encode(rows)))
        if (!begun) {
          begun = true
          resolve(body)
        }
        if ((controller.desiredSize ?? 0) > 0) return true
        return new Promise<boolean>((more) => {
          const timer = setTimeout(() => {
            stalled = true
            stop()
          }, options.stallMs)
          wake = (goOn) => {
            clearTimeout(timer)
            more(goOn)
          }
        })
      })
      .then(
        () => {
          options.signal.removeEventListener('abort', stop)
          if (stalled) {
            const error = new Error(`the client took nothing for ${options.stallMs / 1000} s`)
            options.onLateError(error)
            controller.error(error)
          } else if (!stopped) controller.close()
          resolve(body)
        },
        (error: unknown) => {
          options.signal.removeEventListener('abort', stop)
          if (!begun) return reject(error)
          if (stopped) return
          options.onLateError(error)
          controller.error(error)
        },
      )
  })
}
