/**
 * Visits from events, whatever order the events arrive in: pure, no I/O (merge.test.ts checks it
 * against a recount of every order). A visit is a visitor's events on a site with no gap of more
 * than 30 minutes; its properties come from its first event, its exit page from its last. Events
 * are ordered by (timestamp, event id), so ties have one first and one last event.
 */
import type { QueuedEvent } from '../../lib/queue'

/** Longest gap between two events of one visit (exactly this long continues it). */
export const VISIT_GAP_MS = 30 * 60 * 1000

export const DIRECT_SOURCE = 'Direct / None'
export const DIRECT_CHANNEL = 'Direct'

/** A visit as the visits table holds it (column names), times in epoch milliseconds. */
export interface Visit {
  site_id: string
  visitor_id: string
  anonymous: boolean
  started_at: number
  ended_at: number
  first_event_id: string
  last_event_id: string
  events: number
  views: number
  entry_page: string
  exit_page: string
  referrer: string | null
  source: string
  channel: string
  utm_source: string | null
  utm_medium: string | null
  utm_campaign: string | null
  utm_content: string | null
  utm_term: string | null
  browser: string | null
  os: string | null
  device: string | null
  country: string | null
}

/** The visit of one event alone. */
export function visitOf(event: QueuedEvent): Visit {
  const at = Date.parse(event.timestamp)
  return {
    site_id: event.siteId,
    visitor_id: event.userId ?? event.eventId,
    anonymous: event.userId === null,
    started_at: at,
    ended_at: at,
    first_event_id: event.eventId,
    last_event_id: event.eventId,
    events: 1,
    views: event.eventType === 'page_view' ? 1 : 0,
    entry_page: event.path,
    exit_page: event.path,
    referrer: event.referrer ?? null,
    source: event.source ?? DIRECT_SOURCE,
    channel: event.channel ?? DIRECT_CHANNEL,
    utm_source: event.utmSource ?? null,
    utm_medium: event.utmMedium ?? null,
    utm_campaign: event.utmCampaign ?? null,
    utm_content: event.utmContent ?? null,
    utm_term: event.utmTerm ?? null,
    browser: event.browser ?? null,
    os: event.os ?? null,
    device: event.device ?? null,
    country: event.country ?? null,
  }
}

/**
 * Strings in code point order, which is UTF-8 byte order: what Postgres's "C" collation sorts by.
 * JavaScript's `<` compares UTF-16 units, which puts astral characters before U+E000..U+FFFF.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}
const codePointRank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit)

/** Order of events (and of visits by their first events): timestamp, then event id. */
const compareStart = (a: Visit, b: Visit) => a.started_at - b.started_at || compareText(a.first_event_id, b.first_event_id)
const endsLater = (a: Visit, b: Visit) => b.ended_at > a.ended_at || (b.ended_at === a.ended_at && compareText(b.last_event_id, a.last_event_id) > 0)

/** One visit of two that touch, `first` being the one that starts first. */
function combine(first: Visit, second: Visit): Visit {
  const merged = { ...first, events: first.events + second.events, views: first.views + second.views }
  if (endsLater(first, second)) {
    merged.ended_at = second.ended_at
    merged.last_event_id = second.last_event_id
    merged.exit_page = second.exit_page
  }
  return merged
}

export interface VisitChanges {
  /** Stored visits that no longer exist as they are (absorbed into a merged or extended visit). */
  removed: Visit[]
  /** Visits to store. */
  added: Visit[]
}

/**
 * One visitor's visits after new events: `stored` are that visitor's visits that any new event
 * could touch (all of them within VISIT_GAP_MS of one), `events` the new events' own visits.
 * Visits are maximal (separated by more than the gap), so sweeping them with the new events in
 * start order and joining what lies within the gap of the run so far gives the visits the whole
 * event history has.
 */
export function mergeVisits(stored: readonly Visit[], events: readonly Visit[]): VisitChanges {
  const storedSet = new Set(stored)
  const units = [...stored, ...events].sort(compareStart)
  const changes: VisitChanges = { removed: [], added: [] }
  let run: Visit | undefined
  let members: Visit[] = []
  const flush = () => {
    if (!run) return
    // A stored visit that nothing joined stays as it is.
    if (members.length === 1 && storedSet.has(run)) return
    for (const member of members) if (storedSet.has(member)) changes.removed.push(member)
    changes.added.push(run)
  }
  for (const unit of units) {
    if (run && unit.started_at - run.ended_at <= VISIT_GAP_MS) {
      run = combine(run, unit)
      members.push(unit)
    } else {
      flush()
      run = unit
      members = [unit]
    }
  }
  flush()
  return changes
}
