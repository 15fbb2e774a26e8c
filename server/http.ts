/** Small HTTP helpers shared by the plugins. */

/** For the HTML pages the product serves itself (not Bull Board, which brings its own). */
export const HTML_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
} as const

/** The request body was larger than the route accepts. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError'
  constructor(readonly limitBytes: number) {
    super(`body must be at most ${limitBytes} bytes`)
  }
}

/** The request body was not valid JSON. */
export class InvalidJsonError extends Error {
  override name = 'InvalidJsonError'
}

/** The request body did not arrive in time (a client trickling it would hold the connection). */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError'
  constructor(readonly deadlineMs: number) {
    super(`request body not received within ${deadlineMs / 1000} s`)
  }
}

/**
 * How long a whole body may take to arrive. Bun's idleTimeout restarts on every byte, so without
 * this a client sending a byte every few seconds holds a connection for as long as it likes.
 */
export const BODY_DEADLINE_MS = 10_000

/**
 * Bun's own bound on any request body (its default is 128 MiB): the largest route limit, POST
 * /events' 4 MiB, plus room for the framing of a chunked body. Routes enforce their own limits.
 */
export const MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024 + 64 * 1024

/**
 * Body reads under way, with their deadlines, checked by one timer a second while there are any:
 * a timer of its own per request would cost every request about a microsecond.
 */
const slowReads = new Set<{ at: number; deadlineMs: number; fail(error: Error): void }>()
let sweeper: ReturnType<typeof setInterval> | undefined

function watchRead(read: { at: number; deadlineMs: number; fail(error: Error): void }): void {
  slowReads.add(read)
  sweeper ??= setInterval(() => {
    const now = Date.now()
    for (const late of slowReads) {
      if (late.at > now) continue
      slowReads.delete(late)
      late.fail(new RequestTimeoutError(late.deadlineMs))
    }
    if (slowReads.size === 0) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }, 1_000)
  sweeper.unref?.()
}

/** Stateless for whole-buffer decoding, so one serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const LENIENT_UTF8 = new TextDecoder('utf-8')

/**
 * Reads a body, refusing one over `limitBytes` before buffering more than that, and one that takes
 * longer than `deadlineMs` to arrive.
 */
export async function readBodyBytes(request: Request, limitBytes: number, deadlineMs: number = BODY_DEADLINE_MS): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > limitBytes) throw new PayloadTooLargeError(limitBytes)
  const watch = { at: Date.now() + deadlineMs, deadlineMs, fail: (_: Error) => {} }
  let bytes: Uint8Array
  try {
    bytes = await new Promise<Uint8Array>((resolve, reject) => {
      watch.fail = reject
      watchRead(watch)
      readBytes(request, limitBytes, Number.isFinite(declared)).then(resolve, reject)
    })
  } finally {
    slowReads.delete(watch)
  }
  if (bytes.byteLength > limitBytes) throw new PayloadTooLargeError(limitBytes)
  return bytes
}

/**
 * Reads a JSON body whatever its content type (beacons send text/plain to avoid a CORS
 * preflight), within the limits of readBodyBytes.
 */
export async function readJsonBody(request: Request, limitBytes: number, deadlineMs: number = BODY_DEADLINE_MS): Promise<unknown> {
  return parseJsonBytes(await readBodyBytes(request, limitBytes, deadlineMs))
}

/** A body's bytes as JSON: UTF-8, valid, and nested at most MAX_NESTING levels. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    throw new InvalidJsonError('body must be UTF-8 encoded JSON')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidJsonError('body must be valid JSON')
  }
  // Validation walks the value recursively; deep nesting would cost quadratic time or overflow.
  if (nestingDepth(value, MAX_NESTING) > MAX_NESTING) throw new InvalidJsonError(`body must not nest deeper than ${MAX_NESTING} levels`)
  return value
}

/** Reads an HTML form (application/x-www-form-urlencoded) of at most `limitBytes`; a repeated field becomes an array, which no schema takes for a string. */
export async function readFormBody(request: Request, limitBytes: number): Promise<Record<string, string | string[]>> {
  // A Map, then own properties: a field named __proto__ must stay a field.
  const form = new Map<string, string | string[]>()
  // Invalid UTF-8 becomes U+FFFD, as browsers and URLSearchParams treat percent-escapes.
  for (const [key, value] of new URLSearchParams(LENIENT_UTF8.decode(await readBodyBytes(request, limitBytes)))) {
    const seen = form.get(key)
    form.set(key, seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value])
  }
  return Object.fromEntries(form)
}

export const MAX_NESTING = 16

async function readBytes(request: Request, limitBytes: number, declared: boolean): Promise<Uint8Array> {
  if (declared) return new Uint8Array(await request.arrayBuffer())
  // No Content-Length (chunked): count while reading.
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength
    if (size > limitBytes) throw new PayloadTooLargeError(limitBytes)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Depth of arrays and objects in a parsed JSON value, counted without recursion, up to `limit + 1`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (typeof current !== 'object' || current === null) continue
    if (depth + 1 > deepest) deepest = depth + 1
    if (deepest > limit) return deepest
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1])
  }
  return deepest
}
