import { Elysia, t, ValidationError } from 'elysia'
import { errorFields, type Logger } from '../lib/log'
import { isDatabaseUnavailable, isStatementTimeout } from '../lib/pg-errors'
import { InvalidJsonError, PayloadTooLargeError, RequestTimeoutError } from './http'

export const ErrorResponse = t.Object({ error: t.String() }, { description: 'A request the API refused, with the reason' })
export const InvalidPayloadResponse = t.Object(
  { error: t.Literal('Invalid payload'), details: t.Array(t.String()) },
  { description: 'One sentence per problem, each naming the field' },
)
export const UnavailableResponse = t.Object(
  { error: t.String(), retryAfterSeconds: t.Number() },
  { description: 'A dependency is down; retry after the given delay' },
)

interface SchemaLike {
  type?: string
  minLength?: number
  maxLength?: number
  error?: string
  properties?: Record<string, SchemaLike>
  anyOf?: SchemaLike[]
}

/** '/events/3/site_id' -> 'events[3].site_id' */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), '')
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root
  for (const part of pointer.split('/').slice(1)) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

function expectedType(schema: SchemaLike): string | undefined {
  return schema.type ?? schema.anyOf?.map((s) => s.type).filter((type) => type && type !== 'null')[0]
}

const TYPES: Record<string, [sentence: string, matches: (value: unknown) => boolean]> = {
  number: ['a number', (value) => typeof value === 'number'],
  integer: ['an integer', (value) => Number.isInteger(value)],
  boolean: ['true or false', (value) => typeof value === 'boolean'],
  object: ['an object', (value) => typeof value === 'object' && value !== null && !Array.isArray(value)],
  array: ['an array', Array.isArray],
}

type Location = 'body' | 'event' | 'query'

/** One human sentence for one failing field, derived from its schema and the value received. */
function describe(field: string, schema: SchemaLike, value: unknown, location: Location): string {
  // `?site_id=` is as good as no site_id at all (required parameters declare a minLength).
  if (value === undefined || (location === 'query' && value === '' && (schema.minLength ?? 0) > 0)) {
    return location === 'query' ? `${field} query parameter is required` : `${field} is required`
  }
  const type = expectedType(schema)
  if (type === 'string') {
    if (typeof value !== 'string') return `${field} must be a string`
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${field} must not be empty`
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${field} must be at most ${schema.maxLength} characters`
    return schema.error ?? `${field} is not valid`
  }
  const known = type ? TYPES[type] : undefined
  if (known && !known[1](value)) return `${field} must be ${known[0]}`
  return schema.error ?? `${field} is not valid`
}

/**
 * Turns Elysia's validation error into one sentence per field. Elysia reports a missing field as
 * "Expected string" and may report several errors per field, so sentences are derived from the
 * failing sub-schema and the actual value rather than from its messages.
 */
export function validationDetails(error: Pick<ValidationError, 'value' | 'all'>, location: Location): string[] {
  const input = error.value
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [`${location === 'event' ? 'event' : 'body'} must be a JSON object`]
  const seen = new Set<string>()
  const details: string[] = []
  for (const issue of error.all) {
    if (!('path' in issue) || seen.has(issue.path)) continue
    seen.add(issue.path)
    const field = fieldName(issue.path)
    const schema = issue.schema as SchemaLike
    // An additional-property error points at the unknown key, with the parent object's schema.
    const known = schema.properties === undefined || field === '' || Object.hasOwn(schema.properties, field.split(/[.[]/).pop()!)
    details.push(known ? describe(field || 'body', schema, valueAt(input, issue.path), location) : `${field} is not a known field`)
  }
  return details.length > 0 ? details : ['body does not match the expected shape']
}

/** A refusal with its own status and headers (401, 403, 429, a redirect to the login form). */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** A request the API understood but refuses; answered 400 with the message. */
export class BadRequestError extends Error {
  override name = 'BadRequestError'
}

export const RETRY_AFTER_SECONDS = 5

/** How long the API lets Postgres work on one statement (server/index.ts sets it). */
export const STATEMENT_TIMEOUT_MS = 30_000

/** A dependency cannot take the request now; answered 503 with Retry-After. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError'
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

export const REQUEST_ID_HEADER = 'x-request-id'
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/** The caller's request id when it is a sane token (a proxy's, say), else a new one. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get(REQUEST_ID_HEADER)
  return given && REQUEST_ID.test(given) ? given : Bun.randomUUIDv7()
}

/** The answer when mapping an error failed: built from constants, so it cannot fail in turn. */
const INTERNAL_ERROR = JSON.stringify({ error: 'Internal server error' })

/**
 * The single error boundary of the API: maps every framework error to the contract's JSON
 * bodies and makes sure nothing internal leaks as a 5xx without being logged.
 */
export function errorHandler(log: Logger) {
  const refuse = (details: string[]) => ({ error: 'Invalid payload' as const, details })
  return new Elysia({ name: 'error-handler' })
    .onRequest(({ request, set }) => {
      set.headers[REQUEST_ID_HEADER] = requestIdOf(request)
    })
    .onError({ as: 'global' }, ({ code, error, set, path }) => {
      const requestId = set.headers[REQUEST_ID_HEADER]
      const answer = (refusal: HttpError) => {
        set.status = refusal.status
        Object.assign(set.headers, refusal.headers)
        const retryAfter = refusal.headers['retry-after']
        return retryAfter === undefined ? { error: refusal.message } : { error: refusal.message, retryAfterSeconds: Number(retryAfter) }
      }
      // A handler that throws would leave the answer to Bun: a plain 500, or its HTML error page.
      try {
        switch (code) {
          case 'VALIDATION':
            // Only a request can be refused; a response that fails its schema is a bug here.
            if (error instanceof ValidationError && error.type !== 'response') {
              set.status = 400
              if (error.type === 'query') {
                return { error: validationDetails(error, 'query')[0]! }
              }
              return refuse(validationDetails(error, 'body'))
            }
            break
          case 'PARSE': {
            // Errors thrown by a route's own parser arrive wrapped, with the original as the cause.
            const cause = error.cause
            if (cause instanceof PayloadTooLargeError) {
              set.status = 413
              return { error: 'Payload too large', details: [cause.message] }
            }
            if (cause instanceof RequestTimeoutError) {
              set.status = 408
              set.headers.connection = 'close' // the rest of the body is not worth waiting for
              return { error: cause.message }
            }
            if (cause instanceof HttpError) return answer(cause)
            set.status = 400
            return refuse([cause instanceof InvalidJsonError ? cause.message : 'body must be valid JSON'])
          }
          case 'NOT_FOUND':
            set.status = 404
            return { error: `No route for ${path}` }
          case 'INVALID_FILE_TYPE':
            set.status = 400
            return { error: 'body has a file of a type this route does not accept' }
        }
        if (error instanceof HttpError) return answer(error)
        if (error instanceof BadRequestError) {
          set.status = 400
          return { error: error.message }
        }
        if (isStatementTimeout(error)) {
          log.error('statement timed out', { requestId, path, ...errorFields(error) })
          set.status = 503
          set.headers['retry-after'] = String(RETRY_AFTER_SECONDS)
          return {
            error: `the question took longer than ${STATEMENT_TIMEOUT_MS / 1000} s to answer; ask about a shorter range or with fewer filters`,
            retryAfterSeconds: RETRY_AFTER_SECONDS,
          }
        }
        if (error instanceof ServiceUnavailableError || isDatabaseUnavailable(error)) {
          const unavailable =
            error instanceof ServiceUnavailableError ? error : new ServiceUnavailableError('Database is unavailable; retry later', RETRY_AFTER_SECONDS)
          if (!(error instanceof ServiceUnavailableError)) log.error('database unavailable', { requestId, path, ...errorFields(error) })
          set.status = 503
          set.headers['retry-after'] = String(unavailable.retryAfterSeconds)
          return { error: unavailable.message, retryAfterSeconds: unavailable.retryAfterSeconds }
        }
        log.error('unhandled error', { requestId, path, code: String(code), ...errorFields(error) })
      } catch (failure) {
        try {
          log.error('error handler failed', { requestId, path, ...errorFields(failure) })
        } catch {
          // Nothing left to report with; the answer below must still go out.
        }
      }
      return new Response(INTERNAL_ERROR, { status: 500, headers: { 'content-type': 'application/json' } })
    })
}
