import type { Site } from './hooks/useSites'

const KEY = 'analytics:last-site'

/** Remembers the site a person chose, for the next visit that names none (storage may be off: then nothing is remembered). */
export function rememberSite(siteId: string): void {
  try {
    localStorage.setItem(KEY, siteId)
  } catch {}
}

/** The site to show when the URL names none: the one last chosen here, if the API still knows it, else the one with the latest event. */
export function defaultSite(sites: Site[]): string | null {
  let remembered: string | null = null
  try {
    remembered = localStorage.getItem(KEY)
  } catch {}
  if (remembered !== null && sites.some((site) => site.site_id === remembered)) return remembered
  // ISO 8601 instants in UTC compare as text; a site without events goes last.
  const latest = sites.reduce<Site | null>((best, site) => (best === null || (site.last_event_at ?? '') > (best.last_event_at ?? '') ? site : best), null)
  return latest?.site_id ?? null
}
