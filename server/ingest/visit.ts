/**
 * What the API resolves about an event's visitor before queueing it: page (the path without its
 * query string), campaign tags, source and channel, browser, OS, device and country, or that the
 * event comes from a bot and is not stored. The address is used here and never queued.
 */
import type { QueuedEvent } from '../../lib/queue'
import { agentOf } from './enrich/user-agent'
import { channelOf } from './enrich/channel'
import { deviceOf } from './enrich/device'
import { referrerOf, sourceOf } from './enrich/source'
import { isStorableText } from '../formats'
import { LIMITS, type EventBody } from './model'

/** The parts of an event the API adds from what it knows of the request. */
export type VisitFields = Pick<
  QueuedEvent,
  'path' | 'referrer' | 'source' | 'channel' | 'utmSource' | 'utmMedium' | 'utmCampaign' | 'utmContent' | 'utmTerm' | 'browser' | 'os' | 'device' | 'country'
>

/** What the request says of its sender, read once per request. */
export interface Sender {
  /** The request's User-Agent header ('' when absent). */
  userAgent: string
  /** The client address (after the trusted proxies). */
  address: string
  /** The value of the COUNTRY_HEADER header, when that setting names one. */
  countryHeader: string | null
}

export type CountryOf = (ip: string) => string | null

const UTM_FIELDS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const

/** The page a path names: without its query string and fragment ('/' when nothing is left). */
export function pageOf(path: string): string {
  const end = path.search(/[?#]/)
  return end === -1 ? path : path.slice(0, end) || '/'
}

/**
 * A tag from the path's query string, cut to the field's length (without a surrogate half left at
 * the cut), when it is text Postgres can store: a query may decode to anything.
 */
function tagOf(tags: URLSearchParams | null, name: string): string | null {
  const value = tags
    ?.get(name)
    ?.slice(0, LIMITS.utm)
    .replace(/[\ud800-\udbff]$/, '')
  return value && isStorableText(value) ? value : null
}

/** A field's value, '' counting as none. */
const given = (value: string | undefined) => (value ? value : null)

/**
 * The visit fields of an event, or 'bot' for an event from a crawler, headless browser or known
 * bot. HTTP clients (curl, python-requests, …) are a site's own server posting: kept, with no
 * browser or OS.
 */
export function resolveVisit(body: EventBody, sender: Sender, countryOf: CountryOf, isCountry: (code: string) => boolean): VisitFields | 'bot' {
  const agent = agentOf(body.user_agent || sender.userAgent)
  if (agent.kind === 'bot') return 'bot'
  // Tags the path carries fill those not sent as fields.
  const query = body.path.indexOf('?')
  const tags = query === -1 ? null : new URLSearchParams(body.path.slice(query + 1).split('#')[0])
  const utm = UTM_FIELDS.map((field) => given(body[field]) ?? tagOf(tags, field))
  const [utmSource, utmMedium, utmCampaign, utmContent, utmTerm] = utm
  const referrer = body.referrer ? referrerOf(body.referrer) : null
  const source = sourceOf(referrer?.host ?? null, utmSource ?? null)
  const header = sender.countryHeader?.toUpperCase() ?? ''
  return {
    path: pageOf(body.path),
    referrer: referrer?.url ?? null,
    source,
    channel: channelOf(source, utmMedium ?? null, referrer !== null),
    utmSource: utmSource ?? null,
    utmMedium: utmMedium ?? null,
    utmCampaign: utmCampaign ?? null,
    utmContent: utmContent ?? null,
    utmTerm: utmTerm ?? null,
    browser: agent.kind === 'browser' ? agent.browser : null,
    os: agent.kind === 'browser' ? agent.os : null,
    device: deviceOf(body.screen_width, agent.deviceType),
    country: body.country?.toUpperCase() ?? (isCountry(header) ? header : countryOf(body.ip ?? sender.address)),
  }
}
