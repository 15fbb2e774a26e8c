import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { ingestLedger, ingestRefusalHours, ingestRefusals, sites } from '../../drizzle/schema'
import { errorFields, type Logger } from '../../lib/log'

/**
 * The API's half of the ingestion ledger: accepted and refused counts are gathered in memory and
 * added to Postgres about once a second, so the request path never waits on the database. A crash
 * loses at most that second of counts (never events); a database outage keeps them in memory.
 */
export interface LedgerRecorder {
  accepted(siteId: string, count: number): void
  /** `count` events of this site refused for these reasons. */
  refused(siteId: string, reasons: string[], count?: number): void
  flush(): Promise<void>
}

const FLUSH_DELAY_MS = 1_000
// Distinct sites whose refusals one flush keeps apart; the flush itself sorts out which are known.
const MAX_SITES_PER_FLUSH = 10_000
// Counts for more sites than this are dropped (and logged) while the database stays unreachable.
const MAX_TRACKED_KEYS = 100_000

/** Reason keys must stay few: a sentence naming a client-chosen field collapses into one key. */
export function refusalReason(detail: string): string {
  if (detail.endsWith(' is not a known field')) return 'unknown field'
  // Messages about custom properties name the sender's keys: one reason, however many keys.
  if (detail.startsWith('props')) return 'invalid props'
  return detail.slice(0, 200)
}

/**
 * Counts for a site that has never had an accepted event go to the UNKNOWN_SITE row, so that
 * refused bodies naming ever new site ids cannot grow the ledger. '' is what no accepted event
 * can carry (site_id must not be empty), and refusals naming no usable site already use it.
 */
export const UNKNOWN_SITE = ''

/**
 * `rows.site_id` when the site is known (registered in sites, which the worker does on its first
 * write and PUT /sites does on creation, or with accepted events in the ledger) or when
 * `acceptedNow` holds; UNKNOWN_SITE otherwise. Decided here, at flush time, so that the request
 * path never reads the database.
 */
function knownOr(acceptedNow: SQL): SQL {
  return sql`case when ${acceptedNow}
                    or exists (select 1 from ${sites} s where s.site_id = rows.site_id)
                    or exists (select 1 from ${ingestLedger} l where l.site_id = rows.site_id and l.accepted > 0)
                  then rows.site_id else ${UNKNOWN_SITE} end`
}

export function createLedgerRecorder(db: Db, log: Logger): LedgerRecorder {
  let accepted = new Map<string, number>()
  let refusedEvents = new Map<string, number>()
  let refusals = new Map<string, { siteId: string; reason: string; count: number }>()
  let timer: ReturnType<typeof setTimeout> | undefined

  const add = (map: Map<string, number>, key: string, count: number) => map.set(key, (map.get(key) ?? 0) + count)

  function schedule() {
    if (timer) return
    timer = setTimeout(() => void flush(), FLUSH_DELAY_MS)
    timer.unref()
  }

  async function flush() {
    clearTimeout(timer)
    timer = undefined
    if (accepted.size === 0 && refusals.size === 0) return
    const [acceptedNow, refusedNow, refusalsNow] = [accepted, refusedEvents, refusals]
    accepted = new Map()
    refusedEvents = new Map()
    refusals = new Map()
    const sites = [...new Set([...acceptedNow.keys(), ...refusedNow.keys()])].sort()
    const ledgerRows = sites.map((site) => ({ site_id: site, accepted: acceptedNow.get(site) ?? 0, refused: refusedNow.get(site) ?? 0 }))
    const refusalRows = [...refusalsNow.values()]
      .sort((a, b) => (a.siteId === b.siteId ? (a.reason < b.reason ? -1 : 1) : a.siteId < b.siteId ? -1 : 1))
      .map((row) => ({ site_id: row.siteId, reason: row.reason, count: row.count }))
    try {
      await db.transaction(async (tx) => {
        // Accepted counts first: a site accepted in this flush is known to the refusals below.
        await tx.execute(sql`
          insert into ${ingestLedger} (site_id, accepted, refused)
          select ${knownOr(sql`rows.accepted > 0`)} as site, sum(accepted), sum(refused)
            from json_to_recordset(${JSON.stringify(ledgerRows)}::json) as rows(site_id text, accepted bigint, refused bigint)
           group by site
           order by site
          on conflict (site_id) do update set
            accepted = ${ingestLedger.accepted} + excluded.accepted,
            refused = ${ingestLedger.refused} + excluded.refused,
            updated_at = now()`)
        if (refusalRows.length === 0) return
        await tx.execute(sql`
          insert into ${ingestRefusals} (site_id, reason, count)
          select ${knownOr(sql`false`)} as site, reason, sum(count)
            from json_to_recordset(${JSON.stringify(refusalRows)}::json) as rows(site_id text, reason text, count bigint)
           group by site, reason
           order by site, reason
          on conflict (site_id, reason) do update set count = ${ingestRefusals.count} + excluded.count`)
        await tx.execute(sql`
          insert into ${ingestRefusalHours} (site_id, hour, reason, count)
          select ${knownOr(sql`false`)} as site, date_trunc('hour', now()), reason, sum(count)
            from json_to_recordset(${JSON.stringify(refusalRows)}::json) as rows(site_id text, reason text, count bigint)
           group by site, reason
           order by site, reason
          on conflict (site_id, hour, reason) do update set count = ${ingestRefusalHours.count} + excluded.count`)
      })
    } catch (error) {
      log.warn('ledger flush failed; counts kept for the next try', errorFields(error))
      for (const [site, count] of acceptedNow) add(accepted, site, count)
      for (const [site, count] of refusedNow) add(refusedEvents, site, count)
      for (const [key, row] of refusalsNow) {
        const current = refusals.get(key)
        if (current) current.count += row.count
        else refusals.set(key, row)
      }
      if (accepted.size + refusals.size > MAX_TRACKED_KEYS) {
        log.error('ledger counts dropped: database unreachable for too long', { sites: accepted.size, refusalKeys: refusals.size })
        accepted.clear()
        refusedEvents.clear()
        refusals.clear()
        return
      }
      schedule()
    }
  }

  return {
    accepted(siteId, count) {
      add(accepted, siteId, count)
      schedule()
    },
    refused(named, reasons, count = 1) {
      // Between flushes too, junk site ids must not grow memory: past a bound, new ones share the unknown row.
      const siteId = refusedEvents.has(named) || accepted.has(named) || refusedEvents.size < MAX_SITES_PER_FLUSH ? named : UNKNOWN_SITE
      add(refusedEvents, siteId, count)
      for (const reason of new Set(reasons.map(refusalReason))) {
        const key = `${siteId}\u0000${reason}`
        const current = refusals.get(key)
        if (current) current.count += count
        else refusals.set(key, { siteId, reason, count })
      }
      schedule()
    },
    flush,
  }
}

export type RecentRefusals = {
  hours: number
  since: string
  refused: number
  refused_by_reason: { reason: string; count: number }[]
}

export type SiteLedger = {
  site_id: string
  accepted: number
  refused: number
  written: number
  duplicates: number
  refused_by_reason: { reason: string; count: number }[]
  /** Only when asked for (`recentHours`), so the answer without it stays as it was. */
  recent?: RecentRefusals
}

/**
 * The ledger of one site, or of every site (of `only`) when siteId is undefined. With `recentHours`, each site
 * also gets its refusals of the current hour and the `recentHours - 1` before it (`since` is the
 * first hour's start: refusals are kept per hour).
 */
export async function getIngestLedger(
  db: Db,
  siteId?: string,
  recentHours?: number,
  only: 'all' | ReadonlySet<string> = 'all',
): Promise<SiteLedger[]> {
  if (only !== 'all' && only.size === 0) return []
  const filter = sql.join([siteId === undefined ? sql`true` : sql`l.site_id = ${siteId}`, only === 'all' ? sql`true` : sql`l.site_id in ${[...only]}`], sql` and `)
  const recent =
    recentHours === undefined
      ? sql``
      : sql`, (select json_build_object(
                  'hours', ${recentHours}::int,
                  'since', to_json(w.since) #>> '{}',
                  'refused', coalesce(sum(h.count), 0)::float8,
                  'refused_by_reason', coalesce(json_agg(json_build_object('reason', h.reason, 'count', h.count) order by h.count desc, h.reason)
                                                  filter (where h.reason is not null), '[]'::json))
                 from (select date_trunc('hour', now()) - make_interval(hours => ${recentHours}::int - 1) as since) w
                 left join (select r.reason, sum(r.count)::float8 as count
                              from ${ingestRefusalHours} r
                             where r.site_id = l.site_id and r.hour >= date_trunc('hour', now()) - make_interval(hours => ${recentHours}::int - 1)
                             group by r.reason) h on true
                group by w.since) as recent`
  const rows = await db.execute<SiteLedger>(sql`
    select l.site_id, l.accepted::float8 as accepted, l.refused::float8 as refused,
           l.written::float8 as written, l.duplicates::float8 as duplicates,
           coalesce((select json_agg(json_build_object('reason', r.reason, 'count', r.count::float8) order by r.count desc, r.reason)
                       from ${ingestRefusals} r where r.site_id = l.site_id), '[]'::json) as refused_by_reason${recent}
      from ${ingestLedger} l
     where ${filter}
     order by l.site_id`)
  if (recentHours === undefined) return rows
  return rows.map((row) => ({ ...row, recent: row.recent && { ...row.recent, since: new Date(row.recent.since).toISOString() } }))
}
