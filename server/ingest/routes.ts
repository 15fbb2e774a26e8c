import { Elysia, t } from 'elysia'
import type { Server } from 'bun'
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler'
import type { Db } from '../../drizzle/client'
import type { IngestQueue, QueuedEvent } from '../../lib/queue'
import type { Access } from '../access'
import { budgetKey, type ClientAddress } from '../client-address'
import { ErrorResponse, HttpError, InvalidPayloadResponse, UnavailableResponse, validationDetails } from '../errors'
import { isStorableText } from '../formats'
import { parseJsonBytes, readBodyBytes } from '../http'
import type { RateLimit } from '../rate-limit'
import type { LimiterOf } from '../shared-rate-limit'
import { getIngestLedger, type LedgerRecorder } from './ledger'
import {
  BatchAccepted,
  BatchBody,
  BatchRefused,
  EventAccepted,
  EventBody,
  EventDropped,
  LedgerQuery,
  LedgerResponse,
  LIMITS,
  QueueHealth,
  eventProblems,
  storedProps,
  type BatchItemResult,
  type QueueCounts,
} from './model'
import { IngestUnavailableError, type Enqueue } from './queue'
import type { VisitorIdOf } from './visitors'
import { resolveVisit, type CountryOf, type Sender, type VisitFields } from './visit'
import { isCountryCode } from './enrich/country'

export function toQueuedEvent(body: EventBody, receivedAt: Date, makeId: () => string, visit: VisitFields): QueuedEvent {
  return {
    eventId: body.event_id ?? makeId(),
    siteId: body.site_id,
    eventType: body.event_type,
    userId: body.user_id ? body.user_id : null,
    timestamp: new Date(body.timestamp).toISOString(),
    receivedAt: receivedAt.toISOString(),
    ...visit,
    ...(body.props === undefined ? {} : { props: storedProps(body.props) }),
  }
}

/** The site a refused body meant, when it names a usable one; '' otherwise. */
export function siteOf(body: unknown): string {
  const site = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).site_id : undefined
  return typeof site === 'string' && site.length > 0 && site.length <= LIMITS.siteId && isStorableText(site) ? site : ''
}

function bodyBytes(request: Request, limit: number): number {
  return Number(request.headers.get('content-length')) || limit
}

export interface IngestRateLimits {
  perIp: RateLimit
  perSite: RateLimit
  /** Milliseconds of CPU spent on refused bodies per client address (per second, with a burst). */
  invalidCpuMs: RateLimit
}

const OFF: RateLimit = { rate: 0, burst: 0 }
export const NO_RATE_LIMITS: IngestRateLimits = { perIp: OFF, perSite: OFF, invalidCpuMs: OFF }

export interface IngestDeps {
  access: Access
  rateLimits: IngestRateLimits
  /** Where the limits' buckets live: shared across API processes, or in this one. */
  limiterOf: LimiterOf
  clientAddress: ClientAddress
  enqueue: Enqueue
  ledger: LedgerRecorder
  db: Db
  queue: IngestQueue
  visitorIdOf: VisitorIdOf
  countryOf: CountryOf
  /** A header a proxy or CDN sets to the visitor's country (e.g. CF-IPCountry), when there is one. */
  countryHeader: string | null
  makeId?: () => string
}

/**
 * Ingestion: POST /event and POST /events. Bodies are parsed as JSON whatever the content type,
 * so browsers can send text/plain beacons without a CORS preflight; these two routes, and only
 * they, allow any origin.
 */
export function ingestRoutes(deps: IngestDeps) {
  const makeId = deps.makeId ?? (() => Bun.randomUUIDv7())
  const eventChecker = TypeCompiler.Compile(EventBody)
  const perIp = deps.limiterOf(deps.rateLimits.perIp, 'ip')
  const perSite = deps.limiterOf(deps.rateLimits.perSite, 'site')
  const clientIp = deps.clientAddress
  const { perIp: ipLimit, perSite: siteLimit } = deps.rateLimits
  /** Seconds to wait when the client or one of the sites is over its rate, else 0; refusals are counted. */
  const overLimit = (request: Request, server: Server<unknown> | null, events: QueuedEvent[]) => {
    // Off (as in the benchmarks): no address lookup, no grouping, on the hot path.
    if (ipLimit.rate <= 0 && siteLimit.rate <= 0) return 0
    const bySite = Map.groupBy(events, (event) => event.siteId)
    const ipWait = ipLimit.rate > 0 ? perIp.take(clientIp(request, server), events.length) : 0
    const wait = Math.max(ipWait, ...[...bySite].map(([site, list]) => perSite.take(site, list.length)))
    if (wait > 0) for (const [site, list] of bySite) deps.ledger.refused(site, ['rate limited'], list.length)
    return wait
  }
  const senderOf = (request: Request, server: Server<unknown> | null): Sender => ({
    userAgent: request.headers.get('user-agent') ?? '',
    address: clientIp(request, server),
    countryHeader: deps.countryHeader === null ? null : request.headers.get(deps.countryHeader),
  })
  /** The visitor's id on a site, for anonymous events that ask for one (derive_user_id): from the address and User-Agent the event names, else the request's. */
  const visitorOf = async (body: EventBody, sender: Sender, receivedAt: Date) => {
    try {
      return await deps.visitorIdOf(body.site_id, body.ip ?? sender.address, body.user_agent || sender.userAgent, receivedAt)
    } catch (error) {
      throw new IngestUnavailableError('Event queue is unavailable; retry later', 5, { cause: error })
    }
  }
  // A 4 MiB batch of invalid events costs about a second of CPU to refuse: an address that keeps
  // sending junk waits off what its refusals cost before its next body is read.
  const invalidCpu = deps.limiterOf(deps.rateLimits.invalidCpuMs, 'invalid-cpu')
  const readStarted = new WeakMap<Request, number>()
  const chargeRefusal = (request: Request, server: Server<unknown> | null) => {
    const began = readStarted.get(request)
    if (began !== undefined) invalidCpu.spend(budgetKey(clientIp(request, server)), performance.now() - began)
  }
  const wantsVisitorId = (body: EventBody, event: QueuedEvent) => body.derive_user_id === true && event.userId === null
  const tooMany = (wait: number, set: { headers: Record<string, string | number> }) => {
    set.headers['retry-after'] = String(wait)
    return { error: 'Too many events; slow down and retry later', retryAfterSeconds: wait }
  }

  /**
   * Reads the body; these routes, and only they, allow any origin, so the header is set before
   * anything can refuse the request. A body that cannot be read is counted as refused.
   */
  const parseFor =
    (limitBytes: number) =>
    async ({ request, server, set }: { request: Request; server: Server<unknown> | null; set: { headers: Record<string, string | number> } }) => {
      set.headers['access-control-allow-origin'] = '*'
      const budgeted = deps.rateLimits.invalidCpuMs.rate > 0
      // Until some address has cost anything, nobody is in debt: no address lookup on the hot path.
      const wait = !budgeted || invalidCpu.untouched ? 0 : invalidCpu.wait(budgetKey(clientIp(request, server)), 1)
      if (wait > 0) throw new HttpError(429, 'Too many invalid events from this address; fix them and retry later', { 'retry-after': String(wait) })
      try {
        const bytes = await readBodyBytes(request, limitBytes)
        // From here on the time is CPU spent on this body: waiting for it to arrive is not charged.
        if (budgeted) readStarted.set(request, performance.now())
        return parseJsonBytes(bytes)
      } catch (error) {
        if (error instanceof Error) deps.ledger.refused('', [error.message])
        chargeRefusal(request, server)
        throw error
      }
    }
  /** Counts a body the route's schema is about to refuse (validation runs next and answers the 400). */
  const countRefusal =
    (checker: { Check(value: unknown): boolean; Errors(value: unknown): Iterable<ValueError> }) =>
    ({ body, request, server }: { body: unknown; request: Request; server: Server<unknown> | null }) => {
      if (checker.Check(body)) return
      deps.ledger.refused(siteOf(body), validationDetails({ value: body, all: [...checker.Errors(body)] }, 'body'))
      chargeRefusal(request, server)
    }
  const preflight = new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '86400',
    },
  })
  const batchChecker = TypeCompiler.Compile(BatchBody)

  return new Elysia({ name: 'ingest' })
    .use(deps.access.plugin)
    .guard({ access: 'public' }, (anyone) =>
      anyone
        .options('/event', () => preflight.clone(), { detail: { hide: true } })
        .options('/events', () => preflight.clone(), { detail: { hide: true } })
        .post(
          '/event',
          async ({ body, request, server, status, set }) => {
            const receivedAt = new Date()
            const problems = eventProblems(body, receivedAt)
            if (problems.length > 0) {
              deps.ledger.refused(siteOf(body), problems)
              chargeRefusal(request, server)
              return status(400, { error: 'Invalid payload' as const, details: problems })
            }
            const sender = senderOf(request, server)
            const visit = resolveVisit(body, sender, deps.countryOf, isCountryCode)
            if (visit === 'bot') {
              deps.ledger.refused(body.site_id, ['bot'])
              return status(202, { message: 'Event dropped' as const, eventId: body.event_id ?? makeId(), dropped: 'bot' as const })
            }
            const event = toQueuedEvent(body, receivedAt, makeId, visit)
            if (wantsVisitorId(body, event)) event.userId = await visitorOf(body, sender, receivedAt)
            const wait = overLimit(request, server, [event])
            if (wait > 0) return status(429, tooMany(wait, set))
            // A refusal to queue (IngestUnavailableError) becomes the 503 of the error handler.
            const { jobId } = await deps.enqueue([event], bodyBytes(request, LIMITS.eventBodyBytes))
            deps.ledger.accepted(event.siteId, 1)
            return status(202, { message: 'Event accepted for processing' as const, jobId, eventId: event.eventId })
          },
          {
            parse: parseFor(LIMITS.eventBodyBytes),
            transform: countRefusal(eventChecker),
            body: EventBody,
            response: {
              202: t.Union([EventAccepted, EventDropped]),
              400: InvalidPayloadResponse,
              413: InvalidPayloadResponse,
              429: UnavailableResponse,
              503: UnavailableResponse,
            },
            detail: { summary: 'Record one event', tags: ['ingest'] },
          },
        )
        .post(
          '/events',
          async ({ body, request, server, status, set }) => {
            const receivedAt = new Date()
            const results: BatchItemResult[] = []
            const accepted: QueuedEvent[] = []
            const wantVisitorIds: [EventBody, QueuedEvent][] = []
            const sender = senderOf(request, server)
            let dropped = 0
            body.events.forEach((item, index) => {
              const errors = eventChecker.Check(item)
                ? eventProblems(item, receivedAt)
                : validationDetails({ value: item, all: [...eventChecker.Errors(item)] }, 'event')
              const visit = errors.length === 0 ? resolveVisit(item as EventBody, sender, deps.countryOf, isCountryCode) : null
              if (visit === 'bot') {
                dropped += 1
                deps.ledger.refused((item as EventBody).site_id, ['bot'])
                results.push({ index, status: 'dropped', eventId: (item as EventBody).event_id ?? makeId(), dropped: 'bot' })
              } else if (visit) {
                const event = toQueuedEvent(item as EventBody, receivedAt, makeId, visit)
                accepted.push(event)
                if (wantsVisitorId(item as EventBody, event)) wantVisitorIds.push([item as EventBody, event])
                results.push({ index, status: 'accepted', eventId: event.eventId })
              } else {
                deps.ledger.refused(siteOf(item), errors)
                results.push({ index, status: 'refused', errors })
              }
            })
            const refused = body.events.length - accepted.length - dropped
            if (refused > 0) chargeRefusal(request, server)
            if (accepted.length === 0 && dropped === 0) {
              return status(400, { error: 'Invalid payload' as const, details: ['no event in the batch is valid'], results })
            }
            if (accepted.length === 0) return status(202, { message: 'Events accepted for processing' as const, accepted: 0, refused, dropped, results })
            for (const [item, event] of wantVisitorIds) event.userId = await visitorOf(item, sender, receivedAt)
            const wait = overLimit(request, server, accepted)
            if (wait > 0) return status(429, tooMany(wait, set))
            const { jobId } = await deps.enqueue(accepted, bodyBytes(request, LIMITS.batchBodyBytes))
            const perSite = Map.groupBy(accepted, (event) => event.siteId)
            for (const [site, events] of perSite) deps.ledger.accepted(site, events.length)
            return status(202, {
              message: 'Events accepted for processing' as const,
              jobId,
              accepted: accepted.length,
              refused,
              ...(dropped > 0 ? { dropped } : {}),
              results,
            })
          },
          {
            parse: parseFor(LIMITS.batchBodyBytes),
            transform: countRefusal(batchChecker),
            body: BatchBody,
            response: { 202: BatchAccepted, 400: BatchRefused, 413: InvalidPayloadResponse, 429: UnavailableResponse, 503: UnavailableResponse },
            detail: {
              summary: 'Record up to 1,000 events; valid ones are accepted even when others are refused',
              tags: ['ingest'],
            },
          },
        ),
    )
    .guard({ access: 'ops' }, (ops) =>
      ops.get('/ingest/queue', () => deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed') as Promise<QueueCounts>, {
        response: { 200: QueueHealth },
        detail: { summary: 'Jobs waiting, running, delayed for a retry, and failed', tags: ['ingest'] },
      }),
    )
    .guard({ access: 'reader' }, (readers) =>
      readers.get(
        '/ingest/ledger',
        async ({ query, request, server }) => {
          // A viewer reads the ledger of their own sites only.
          if (query.site_id !== undefined) await deps.access.requireSite(request, server, query.site_id)
          return { sites: await getIngestLedger(deps.db, query.site_id, query.recent_hours, await deps.access.sitesOf(request, server)) }
        },
        {
          query: LedgerQuery,
          response: { 200: LedgerResponse, 400: ErrorResponse, 403: ErrorResponse },
          detail: { summary: 'Per-site counts of events accepted, refused (by reason), written and skipped as duplicates', tags: ['ingest'] },
        },
      ),
    )
}
