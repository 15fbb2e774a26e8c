import { t } from 'elysia'
import { INSTANT, TEXT } from '../formats'

/** Field limits; documented in the README. */
export const LIMITS = {
  siteId: 128,
  eventId: 128,
  eventType: 64,
  path: 2048,
  userId: 256,
} as const

/** A string field: length-limited, and only characters Postgres can store. */
const text = (field: string, minLength: number, maxLength: number, description?: string) =>
  t.String({ minLength, maxLength, format: TEXT, error: `${field} must not contain NUL characters or unpaired surrogates`, description })

export const EventBody = t.Object(
  {
    site_id: text('site_id', 1, LIMITS.siteId),
    event_type: text('event_type', 1, LIMITS.eventType, 'e.g. page_view, click'),
    path: text('path', 1, LIMITS.path),
    user_id: t.Optional(t.Union([text('user_id', 0, LIMITS.userId), t.Null()], { description: 'Empty or null means anonymous' })),
    timestamp: t.String({ format: INSTANT, error: 'timestamp must be a valid ISO 8601 date string', examples: ['2025-11-14T10:30:00Z'] }),
    event_id: t.Optional(text('event_id', 1, LIMITS.eventId, 'Idempotency key: the same event_id for the same site is stored once')),
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
