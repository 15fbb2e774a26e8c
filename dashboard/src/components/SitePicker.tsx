import { formatCount } from '../format'
import type { Site } from '../hooks/useSites'

/** Chooses the site; a site named in the URL but not (yet) known to the API stays choosable. */
export function SitePicker({ sites, value, onChange }: { sites: Site[]; value: string; onChange: (siteId: string) => void }) {
  const known = sites.some((site) => site.site_id === value)
  return (
    <label className="field">
      <span className="field-label">Site</span>
      <select value={value} onChange={(event) => onChange(event.target.value)} data-testid="site-picker">
        {!known && <option value={value}>{value} (no events yet)</option>}
        {sites.map((site) => (
          <option key={site.site_id} value={site.site_id}>
            {site.site_id} ({formatCount(site.total_events)} events)
          </option>
        ))}
      </select>
    </label>
  )
}
