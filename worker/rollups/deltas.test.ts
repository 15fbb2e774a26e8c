/**
 * The deltas of many batches, added up the way Postgres adds them (upserts, user bitmaps), must
 * equal a plain recount over the distinct events: several sites and zones, repeated event ids
 * within and across batches, repeat users, null users, events in and out of the realtime window.
 */
import { expect, test } from 'bun:test'
import type { QueuedEvent } from '../../lib/queue'
import {
  key,
  ledgerCounts,
  REALTIME_WINDOW_MS,
  rollupDeltas,
  splitCreatedUsers,
  totalsWithNewUsers,
  uniqueEvents,
  writtenEvents,
  type Buckets,
  type InsertResult,
  type NewUserBits,
} from './deltas'

let seed = 7
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return seed / 2_147_483_648
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!

/** Sites and their zones' fixed offsets in minutes (whole minutes, as the insert relies on). */
const SITES: Record<string, number> = { utc: 0, kolkata: 330, kathmandu: 345, newyork: -300 }
const NOW = Date.parse('2025-11-14T12:00:00Z')
const HOUR = 3_600_000

/** The buckets Postgres's bucketColumns gives an instant in a zone of a fixed offset. */
function buckets(at: number, offsetMinutes: number): Buckets {
  const local = new Date(at + offsetMinutes * 60_000)
  const hourStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), local.getUTCHours())
  const monthStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1)
  return {
    hour: new Date(hourStart - offsetMinutes * 60_000).toISOString(),
    day: local.toISOString().slice(0, 10),
    month: new Date(monthStart).toISOString().slice(0, 10),
    hour_index: (hourStart - monthStart) / HOUR,
    day_index: local.getUTCDate() - 1,
  }
}

let n = 0
function randomEvent(): QueuedEvent {
  // Mostly around now, in and out of the realtime window on both sides; some days back, across a month boundary.
  const at =
    random() < 0.6 ? NOW + Math.floor((random() * 3 - 1.5) * REALTIME_WINDOW_MS) : Date.parse('2025-10-30T00:00:00Z') + Math.floor(random() * 5 * 86_400_000)
  return {
    eventId: `e${n++}`,
    siteId: pick(Object.keys(SITES)),
    eventType: pick(['page_view', 'page_view', 'click', 'signup']),
    path: pick(['/', '/a', '/b', '/c']),
    userId: random() < 0.2 ? null : pick(['u1', 'u2', 'u3', 'u4', 'u5', 'u6']),
    timestamp: new Date(Math.floor(at / 1000) * 1000).toISOString(),
    receivedAt: new Date(NOW).toISOString(),
  }
}

/** Stored state, as the tables hold it: raw events by id, rollups by key, users' month bitmaps. */
const stored = new Map<string, QueuedEvent>()
const sums = new Map<string, number>()
const userBits = new Map<string, { hours: Set<number>; days: Set<number> }>()
const minuteUserRows = new Set<string>()
const ledger = new Map<string, { written: number; duplicates: number }>()
const add = (k: string, value: number) => sums.set(k, (sums.get(k) ?? 0) + value)

const isSorted = (keys: string[]) => keys.every((k, i) => i === 0 || keys[i - 1]! < k)

/** What writeEventBatch does with a batch, with the tables simulated. */
function writeBatch(batch: QueuedEvent[]) {
  const candidates = uniqueEvents(batch)
  const fresh = candidates.filter((event) => !stored.has(key(event.siteId, event.eventId)))
  for (const event of fresh) stored.set(key(event.siteId, event.eventId), event)
  const minutes = new Map(
    fresh.map((event) => {
      const minute = Math.floor(Date.parse(event.timestamp) / 60_000) * 60_000
      return [key(event.siteId, minute), { site_id: event.siteId, minute, ...buckets(minute, SITES[event.siteId]!) }]
    }),
  )
  const result: InsertResult = {
    written: fresh.length,
    ids: fresh.length < candidates.length ? fresh.map((event) => [event.siteId, event.eventId]) : null,
    buckets: fresh.length > 0 ? [...minutes.values()] : null,
  }
  const written = writtenEvents(candidates, result)
  for (const row of ledgerCounts(batch, written)) {
    const entry = ledger.get(row.site_id) ?? { written: 0, duplicates: 0 }
    ledger.set(row.site_id, { written: entry.written + row.written, duplicates: entry.duplicates + row.duplicates })
  }
  if (written.length === 0) return
  const deltas = rollupDeltas(written, new Date(NOW))

  expect(isSorted(deltas.hourPaths.map((r) => key(r.site_id, r.hour, r.path)))).toBe(true)
  expect(isSorted(deltas.dayTypes.map((r) => key(r.site_id, r.day, r.event_type)))).toBe(true)
  expect(isSorted(deltas.users.map((u) => key(u.site_id, u.month, u.user_id)))).toBe(true)
  for (const r of deltas.hourPaths) add(key('hour-path', r.site_id, `${r.hour} ${r.path}`), r.views)
  for (const r of deltas.dayPaths) add(key('day-path', r.site_id, `${r.day} ${r.path}`), r.views)
  for (const r of deltas.hourTypes) add(key('hour-type', r.site_id, `${r.hour} ${r.event_type}`), r.events)
  for (const r of deltas.dayTypes) add(key('day-type', r.site_id, `${r.day} ${r.event_type}`), r.events)
  for (const r of deltas.minutes) add(key('minute', r.site_id, r.minute), r.events)
  for (const r of deltas.minuteUsers) minuteUserRows.add(key(r.site_id, r.minute, r.user_id))

  // createUserRows: month rows for users new that month; setMissingUserBits: the others' missing bits.
  const created = deltas.users.filter((u) => !userBits.has(key(u.site_id, u.month, u.user_id)))
  for (const u of created) userBits.set(key(u.site_id, u.month, u.user_id), { hours: new Set(u.hours), days: new Set(u.days) })
  const { fresh: createdBits, existing } = splitCreatedUsers(deltas, created)
  const updated: NewUserBits[] = existing.flatMap((u) => {
    const bits = userBits.get(key(u.site_id, u.month, u.user_id))!
    const newHours = u.hours.filter((h) => !bits.hours.has(h))
    const newDays = u.days.filter((d) => !bits.days.has(d))
    for (const h of newHours) bits.hours.add(h)
    for (const d of newDays) bits.days.add(d)
    return newHours.length > 0 ? [{ site_id: u.site_id, month: u.month, new_hours: newHours, new_days: newDays }] : []
  })
  const { hours, days } = totalsWithNewUsers(deltas.totals, [...createdBits, ...updated])
  expect(isSorted(hours.map((r) => key(r.site_id, r.hour)))).toBe(true)
  for (const r of hours) for (const field of ['views', 'events', 'users'] as const) add(key(`hour-${field}`, r.site_id, r.hour), r[field])
  for (const r of days) for (const field of ['views', 'events', 'users'] as const) add(key(`day-${field}`, r.site_id, r.day), r[field])
}

/** The same figures counted straight from the distinct stored events. */
function recount() {
  const counts = new Map<string, number>()
  const distinct = new Map<string, Set<string>>()
  const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1)
  const user = (k: string, id: string) => distinct.set(k, (distinct.get(k) ?? new Set()).add(id))
  const minuteUsers = new Set<string>()
  for (const event of stored.values()) {
    const at = Date.parse(event.timestamp)
    const { hour, day } = buckets(at, SITES[event.siteId]!)
    const site = event.siteId
    for (const [period, bucket] of [
      ['hour', hour],
      ['day', day],
    ] as const) {
      count(key(`${period}-events`, site, bucket))
      count(key(`${period}-type`, site, `${bucket} ${event.eventType}`))
      if (event.eventType === 'page_view') {
        count(key(`${period}-views`, site, bucket))
        count(key(`${period}-path`, site, `${bucket} ${event.path}`))
      }
      if (event.userId !== null) user(key(`${period}-users`, site, bucket), event.userId)
    }
    if (Math.abs(at - NOW) <= REALTIME_WINDOW_MS) {
      const minute = new Date(Math.floor(at / 60_000) * 60_000).toISOString()
      count(key('minute', site, minute))
      if (event.userId !== null) minuteUsers.add(key(site, minute, event.userId))
    }
  }
  for (const [k, users] of distinct) counts.set(k, users.size)
  return { counts, minuteUsers }
}

test('deltas of batches with repeats, added up as Postgres adds them, equal a recount of the distinct events', () => {
  const sent: QueuedEvent[] = []
  for (let b = 0; b < 40; b++) {
    const batch = Array.from({ length: 1 + Math.floor(random() * 60) }, randomEvent)
    // Repeats: ids sent before (a client retry, a redelivered job) and twice in one batch.
    for (let i = 0; i < 5 && sent.length > 0; i++) batch.push(pick(sent))
    batch.push(batch[0]!)
    sent.push(...batch)
    writeBatch(batch)
  }
  const { counts, minuteUsers } = recount()
  const nonZero = new Map([...sums].filter(([, value]) => value !== 0))
  expect(Object.fromEntries(nonZero)).toEqual(Object.fromEntries(counts))
  expect([...minuteUserRows].sort()).toEqual([...minuteUsers].sort())
  const stats = Object.keys(SITES).map((site) => ledger.get(site))
  expect(stats.reduce((sum, entry) => sum + entry!.written, 0)).toBe(stored.size)
  expect(stats.reduce((sum, entry) => sum + entry!.written + entry!.duplicates, 0)).toBe(sent.length)
})

test('a batch of nothing new adds nothing', () => {
  const event = randomEvent()
  expect(writtenEvents([event], { written: 0, ids: null, buckets: null })).toEqual([])
  expect(ledgerCounts([event, event], [])).toEqual([{ site_id: event.siteId, written: 0, duplicates: 2 }])
})
