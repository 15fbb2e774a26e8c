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

/** Stateless for whole-buffer decoding, so one serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const LENIENT_UTF8 = new TextDecoder('utf-8')

/** Reads a body, refusing one over `limitBytes` before buffering more than that. */
async function readBodyBytes(request: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > limitBytes) throw new PayloadTooLargeError(limitBytes)
  let bytes: Uint8Array
  if (Number.isFinite(declared)) {
    bytes = new Uint8Array(await request.arrayBuffer())
  } else {
    // No Content-Length (chunked): count while reading.
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of request.body ?? []) {
      size += chunk.byteLength
      if (size > limitBytes) throw new PayloadTooLargeError(limitBytes)
      chunks.push(chunk)
    }
    bytes = Buffer.concat(chunks)
  }
  if (bytes.byteLength > limitBytes) throw new PayloadTooLargeError(limitBytes)
  return bytes
}

/**
 * Reads a JSON body whatever its content type (beacons send text/plain to avoid a CORS
 * preflight), refusing bodies over `limitBytes` before buffering more than that.
 */
export async function readJsonBody(request: Request, limitBytes: number): Promise<unknown> {
  const bytes = await readBodyBytes(request, limitBytes)
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
