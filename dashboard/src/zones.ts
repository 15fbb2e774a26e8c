import { MAX_OTHER_ZONE_DAYS } from '../../lib/range-limits'
import { dayCount, type DateRange } from './dates'

const DAY_MS = 86_400_000
const formats = new Map<string, Intl.DateTimeFormat>()

/** Minutes `zone` is ahead of UTC at `instant`. */
export function offsetMinutes(zone: string, instant: Date): number {
  let format = formats.get(zone)
  if (!format) formats.set(zone, (format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })))
  const name = format.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT'
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name)
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0
}

const formatOffset = (minutes: number) =>
  `${minutes < 0 ? '−' : '+'}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}:${String(Math.abs(minutes) % 60).padStart(2, '0')}`

/**
 * Why the API cannot answer `range` in `zone` exactly for a site whose rollups are kept in
 * `siteZone`, or null when it can: the rollups are hourly in the site's zone, so another zone's
 * day must start on one of its hours (offsets a whole number of hours apart, every day of the
 * range), and a timeseries in another zone spans at most 31 days.
 */
export function inexactReason(zone: string, siteZone: string, range: DateRange): string | null {
  if (zone === siteZone) return null
  const start = Date.parse(`${range.from}T12:00:00Z`)
  for (let day = 0; day <= dayCount(range); day++) {
    const instant = new Date(start + day * DAY_MS)
    const apart = offsetMinutes(zone, instant) - offsetMinutes(siteZone, instant)
    if (apart % 60 !== 0) return `${formatOffset(offsetMinutes(zone, instant))}, not whole hours from ${siteZone}`
  }
  if (dayCount(range) > MAX_OTHER_ZONE_DAYS) return `over ${MAX_OTHER_ZONE_DAYS} days`
  return null
}
