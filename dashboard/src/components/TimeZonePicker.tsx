import { useMemo } from 'react'
import type { DateRange } from '../dates'
import { inexactReason } from '../zones'

/** Zones that cover most audiences; the browser's own, the site's and the URL's are added to them. */
const COMMON_ZONES = [
  'UTC',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Sao_Paulo',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Moscow',
  'Africa/Johannesburg',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
]

const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone

/**
 * `value` null means the site's own zone, which the URL then leaves out. Zones the API cannot
 * answer exactly for this range are listed but cannot be chosen, with the reason.
 */
export function TimeZonePicker({
  value,
  siteZone,
  range,
  onChange,
}: {
  value: string | null
  siteZone: string
  range: DateRange
  onChange: (zone: string | null) => void
}) {
  const zones = [...new Set([BROWSER_ZONE, ...COMMON_ZONES, ...(value ? [value] : [])])].filter((zone) => zone !== siteZone)
  const reasons = useMemo(() => new Map(zones.map((zone) => [zone, inexactReason(zone, siteZone, range)])), [zones.join(), siteZone, range.from, range.to])
  return (
    <label className="field">
      <span className="field-label">Time zone</span>
      <select value={value === siteZone ? '' : (value ?? '')} onChange={(event) => onChange(event.target.value || null)} data-testid="tz-picker">
        <option value="">Site's zone ({siteZone})</option>
        {zones.map((zone) => {
          const reason = reasons.get(zone)
          const name = zone === BROWSER_ZONE ? `${zone} (this browser)` : zone
          return (
            <option key={zone} value={zone} disabled={reason !== null && zone !== value}>
              {reason ? `${name} (not exact: ${reason})` : name}
            </option>
          )
        })}
      </select>
    </label>
  )
}
