import { Elysia } from 'elysia'
import type { QueuedEvent } from '../../worker/queues'
import { InvalidPayloadResponse, RETRY_AFTER_SECONDS, UnavailableResponse } from '../errors'
import { EventAccepted, EventBody } from './model'

export interface Enqueue {
  /** Resolves once Redis has acknowledged the job carrying these events. */
  (events: QueuedEvent[]): Promise<{ jobId: string }>
}

export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError'
}

export function toQueuedEvent(body: EventBody, receivedAt: Date, makeId: () => string): QueuedEvent {
  return {
    eventId: body.event_id ?? makeId(),
    siteId: body.site_id,
    eventType: body.event_type,
    path: body.path,
    userId: body.user_id ? body.user_id : null,
    timestamp: new Date(body.timestamp).toISOString(),
    receivedAt: receivedAt.toISOString(),
  }
}

export function ingestRoutes(deps: { enqueue: Enqueue; makeId?: () => string }) {
  const makeId = deps.makeId ?? (() => Bun.randomUUIDv7())
  return new Elysia({ name: 'ingest' }).post(
    '/event',
    async ({ body, status, set }) => {
      const event = toQueuedEvent(body, new Date(), makeId)
      try {
        const { jobId } = await deps.enqueue([event])
        return status(202, { message: 'Event accepted for processing' as const, jobId, eventId: event.eventId })
      } catch (error) {
        if (!(error instanceof QueueUnavailableError)) throw error
        set.headers['retry-after'] = String(RETRY_AFTER_SECONDS)
        return status(503, { error: error.message, retryAfterSeconds: RETRY_AFTER_SECONDS })
      }
    },
    {
      // Parse as JSON whatever the content type says, so text/plain beacons need no CORS preflight.
      parse: 'json',
      body: EventBody,
      response: { 202: EventAccepted, 400: InvalidPayloadResponse, 503: UnavailableResponse },
      detail: { summary: 'Record one event', tags: ['ingest'] },
    },
  )
}
