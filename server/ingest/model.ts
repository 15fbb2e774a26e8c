import { t } from 'elysia'
import { ABSOLUTE_URL, COUNTRY_CODE, INSTANT, IP_ADDRESS, isStorableText, MAX_PATH_BYTES, PAGE_PATH, TEXT } from '../formats'

/** Field and request limits; documented in the README. */
export const LIMITS = {
  siteId: 128,
  eventId: 128,
  eventType: 64,
  path: 2048,
  userId: 256,
  referrer: 2048,
  utm: 256,
  userAgent: 1024,
  maxScreenWidth: 100_000,
  /** Custom properties: most keys per event, and the longest string value. */
  propKeys: 30,
  propValue: 300,
  /** Most events in one POST /events. */
  batchEvents: 1_000,
  /** Largest POST /event body. */
  eventBodyBytes: 64 * 1024,
  /** Largest POST /events body. */
  batchBodyBytes: 4 * 1024 * 1024,
  /** How far ahead of the server's clock a timestamp may be (clients' clocks drift). */
  futureMs: 24 * 3600 * 1000,
  /** How far back a timestamp may be (backfills of older history are refused). */
  pastMs: 10 * 366 * 24 * 3600 * 1000,
} as const

/** Why a timestamp that is a valid date-time is still refused, if it is. */
export function timestampProblem(timestamp: string, now: Date): string | undefined {
  const at = Date.parse(timestamp)
  if (at > now.getTime() + LIMITS.futureMs) return 'timestamp must not be more than 24 hours in the future'
  if (at < now.getTime() - LIMITS.pastMs) return 'timestamp must not be more than 10 years in the past'
  return undefined
}

/** What a custom property's key may be: 1 to 64 letters, digits, `_`, `-` or `.`. */
export const PROP_KEY = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Why an event's custom properties are refused (none when they are fine), naming the key. The
 * schema only asks for an object: the rules name the offending key, which TypeBox's errors cannot.
 */
export function propsProblems(props: Record<string, unknown> | undefined): string[] {
  if (props === undefined) return []
  const keys = Object.keys(props)
  if (keys.length > LIMITS.propKeys) return [`props must have at most ${LIMITS.propKeys} keys; it has ${keys.length}`]
  const problems: string[] = []
  for (const key of keys) {
    const value = props[key]
    if (!PROP_KEY.test(key)) problems.push(`props key ${JSON.stringify(key.slice(0, 80))} must be 1 to 64 letters, digits, _, - or .`)
    else if (typeof value === 'string') {
      if (value.length > LIMITS.propValue) problems.push(`props.${key} must be at most ${LIMITS.propValue} characters`)
      else if (!isStorableText(value)) problems.push(`props.${key} must not contain NUL characters or unpaired surrogates`)
    } else if (typeof value === 'number') {
      // JSON.parse reads 1e999 as Infinity, which has no JSON text to store.
      if (!Number.isFinite(value)) problems.push(`props.${key} must be a finite number`)
    } else if (typeof value !== 'boolean') problems.push(`props.${key} must be a string, number or boolean`)
  }
  return problems
}

/**
 * Custom properties as stored: each value as its JSON text (strings as they are); an empty string
 * is no value, as for the other fields (a filter cannot name it); none when nothing is left.
 */
export function storedProps(props: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (props === undefined) return undefined
  const entries = Object.entries(props).filter(([, value]) => value !== '')
  if (entries.length === 0) return undefined
  return Object.fromEntries(entries.map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)!]))
}

/** Why an event that matches the schema is still refused: its timestamp or its properties. */
export function eventProblems(body: EventBody, now: Date): string[] {
  const timestamp = timestampProblem(body.timestamp, now)
  return [...(timestamp ? [timestamp] : []), ...propsProblems(body.props)]
}

/** A string field: length-limited, and only characters Postgres can store. */
const text = (field: string, minLength: number, maxLength: number, description?: string) =>
  t.String({ minLength, maxLength, format: TEXT, error: `${field} must not contain NUL characters or unpaired surrogates`, description })

export const EventBody = t.Object(
  {
    site_id: text('site_id', 1, LIMITS.siteId),
    event_type: text('event_type', 1, LIMITS.eventType, 'e.g. page_view, click'),
    path: t.String({
      minLength: 1,
      maxLength: LIMITS.path,
      format: PAGE_PATH,
      error: `path must be at most ${MAX_PATH_BYTES} bytes in UTF-8, without NUL characters or unpaired surrogates`,
    }),
    user_id: t.Optional(t.Union([text('user_id', 0, LIMITS.userId), t.Null()], { description: 'Empty or null means anonymous' })),
    timestamp: t.String({ format: INSTANT, error: 'timestamp must be a valid ISO 8601 date string', examples: ['2025-11-14T10:30:00Z'] }),
    event_id: t.Optional(text('event_id', 1, LIMITS.eventId, 'Idempotency key: the same event_id for the same site is stored once')),
    referrer: t.Optional(
      t.String({
        maxLength: LIMITS.referrer,
        format: ABSOLUTE_URL,
        error: 'referrer must be an absolute URL',
        description: 'The referring page; empty means none',
      }),
    ),
    utm_source: t.Optional(text('utm_source', 0, LIMITS.utm, 'Campaign tags; empty means none. Taken from the query string of path when not sent')),
    utm_medium: t.Optional(text('utm_medium', 0, LIMITS.utm)),
    utm_campaign: t.Optional(text('utm_campaign', 0, LIMITS.utm)),
    utm_content: t.Optional(text('utm_content', 0, LIMITS.utm)),
    utm_term: t.Optional(text('utm_term', 0, LIMITS.utm)),
    screen_width: t.Optional(
      // t.Number with multipleOf, not t.Integer: Elysia coerces bodies with integer fields, which
      // turns a body that is not an object into {} before it is refused (and misreports why).
      t.Number({
        multipleOf: 1,
        minimum: 1,
        maximum: LIMITS.maxScreenWidth,
        error: `screen_width must be a whole number of CSS pixels from 1 to ${LIMITS.maxScreenWidth}`,
      }),
    ),
    user_agent: t.Optional(
      text('user_agent', 0, LIMITS.userAgent, "The visitor's User-Agent, for servers posting on a visitor's behalf; default: the request's"),
    ),
    ip: t.Optional(
      t.String({
        maxLength: 64,
        format: IP_ADDRESS,
        error: 'ip must be an IPv4 or IPv6 address',
        description: "The visitor's address, for servers posting on a visitor's behalf: used for the country and the visitor id, never stored",
      }),
    ),
    country: t.Optional(
      t.String({
        format: COUNTRY_CODE,
        error: 'country must be an ISO 3166-1 alpha-2 country code such as US',
        description: 'Overrides the country found from the address',
      }),
    ),
    props: t.Optional(
      // Values are checked by propsProblems, whose messages name the key.
      t.Record(t.String(), t.Unknown(), {
        description:
          'Custom properties: up to 30 keys of 1 to 64 letters, digits, _, - or .; values strings up to 300 characters, numbers or booleans (stored as their JSON text)',
      }),
    ),
    derive_user_id: t.Optional(
      t.Boolean({
        error: 'derive_user_id must be true or false',
        description:
          'When user_id is absent: count the sender as a visitor by a daily id made from its IP address and User-Agent, neither of them stored (the browser tracker sets it)',
      }),
    ),
  },
  // Unknown fields are refused rather than dropped, so a typo such as `userId` is caught.
  { additionalProperties: false },
)
export type EventBody = typeof EventBody.static

export const EventAccepted = t.Object({
  message: t.Literal('Event accepted for processing'),
  jobId: t.String(),
  eventId: t.String(),
})

/** An event from a crawler, a headless browser or a known bot: answered as accepted, not stored. */
export const EventDropped = t.Object({
  message: t.Literal('Event dropped'),
  eventId: t.String(),
  dropped: t.Literal('bot'),
})

export const BatchBody = t.Object(
  {
    events: t.Array(t.Unknown({ description: 'An event shaped like the body of POST /event' }), {
      minItems: 1,
      maxItems: LIMITS.batchEvents,
      error: `events must be an array of 1 to ${LIMITS.batchEvents} events`,
    }),
  },
  { additionalProperties: false },
)

export const BatchItemResult = t.Union([
  t.Object({ index: t.Integer(), status: t.Literal('accepted'), eventId: t.String() }),
  t.Object({ index: t.Integer(), status: t.Literal('dropped'), eventId: t.String(), dropped: t.Literal('bot') }),
  t.Object({ index: t.Integer(), status: t.Literal('refused'), errors: t.Array(t.String()) }),
])
export type BatchItemResult = typeof BatchItemResult.static

export const BatchAccepted = t.Object({
  message: t.Literal('Events accepted for processing'),
  /** Absent when every valid event was dropped (nothing was queued). */
  jobId: t.Optional(t.String()),
  accepted: t.Integer(),
  refused: t.Integer(),
  dropped: t.Optional(t.Integer({ description: 'Events from bots: answered, not stored; present when there were some' })),
  results: t.Array(BatchItemResult),
})

export const BatchRefused = t.Object({
  error: t.Literal('Invalid payload'),
  details: t.Array(t.String()),
  results: t.Array(BatchItemResult),
})

export const LedgerQuery = t.Object({
  site_id: t.Optional(
    t.String({
      minLength: 1,
      maxLength: LIMITS.siteId,
      format: TEXT,
      error: 'site_id must be at most 128 characters without NUL characters or unpaired surrogates',
    }),
  ),
  // 1 to 168 (MAX_RECENT_HOURS of lib/ledger.ts) written as at most three digits, read as a number.
  recent_hours: t.Optional(
    t
      .Transform(
        t.String({
          pattern: '^(?=[0-9]{1,3}$)0*(16[0-8]|1[0-5][0-9]|[1-9][0-9]?)$',
          error: 'recent_hours must be a whole number from 1 to 168',
          description: "Adds each site's refusals of the current hour and the hours before it, this many in all",
        }),
      )
      .Decode((text) => Number(text))
      .Encode((hours) => String(hours)),
  ),
})

const RefusalReasons = t.Array(t.Object({ reason: t.String(), count: t.Integer() }))

export const SiteLedger = t.Object({
  site_id: t.String(),
  accepted: t.Integer(),
  refused: t.Integer(),
  written: t.Integer(),
  duplicates: t.Integer(),
  refused_by_reason: RefusalReasons,
  recent: t.Optional(t.Object({ hours: t.Integer(), since: t.String(), refused: t.Integer(), refused_by_reason: RefusalReasons })),
})

export const LedgerResponse = t.Object({ sites: t.Array(SiteLedger) })

export const QueueHealth = t.Object({ waiting: t.Integer(), active: t.Integer(), delayed: t.Integer(), failed: t.Integer() })
export type QueueCounts = typeof QueueHealth.static
