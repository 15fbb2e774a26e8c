import { useCallback, useEffect, useState } from 'react'
import { isCalendarDate, isTimeZone, PRESETS, type Preset, type RangeChoice } from './dates'

/**
 * What the dashboard shows, kept in the URL query so that a view can be shared and reloaded:
 * `?site=shop&range=7d&tz=Europe/Paris&filters=source%3D%3DGoogle` or `?site=shop&from=2025-11-01&to=2025-11-14`.
 * No `site` means the first site; no `tz` means the site's own time zone.
 */
export interface View {
  site: string | null
  range: RangeChoice
  tz: string | null
  /** The API's `filters` text (`source==Google;country!=US`), or null for none. */
  filters: string | null
}

const DEFAULT_RANGE: RangeChoice = { preset: '7d' }

/** Reads a view from a query string; anything malformed falls back to the default for that part. */
export function parseView(search: string): View {
  const query = new URLSearchParams(search)
  const from = query.get('from') ?? ''
  const to = query.get('to') ?? ''
  const preset = query.get('range') ?? ''
  const tz = query.get('tz') ?? ''
  let range = DEFAULT_RANGE
  if (isCalendarDate(from) && isCalendarDate(to) && from <= to) range = { preset: 'custom', from, to }
  else if ((PRESETS as readonly string[]).includes(preset)) range = { preset: preset as Preset }
  return { site: query.get('site') || null, range, tz: tz && isTimeZone(tz) ? tz : null, filters: query.get('filters') || null }
}

export function viewToSearch(view: View): string {
  const query = new URLSearchParams()
  if (view.site) query.set('site', view.site)
  if (view.range.preset === 'custom') {
    query.set('from', view.range.from)
    query.set('to', view.range.to)
  } else {
    query.set('range', view.range.preset)
  }
  if (view.tz) query.set('tz', view.tz)
  if (view.filters) query.set('filters', view.filters)
  return `?${query}`
}

/**
 * The view in the URL. A person's change adds a history entry (so Back returns to the previous
 * view, through popstate); filling in a default replaces the current entry instead.
 */
export function useUrlView(): [View, (next: View, history?: 'push' | 'replace') => void] {
  const [view, setView] = useState(() => parseView(window.location.search))

  useEffect(() => {
    const onPopState = () => setView(parseView(window.location.search))
    window.addEventListener('popstate', onPopState)
    return () => window.removeEventListener('popstate', onPopState)
  }, [])

  const change = useCallback((next: View, mode: 'push' | 'replace' = 'push') => {
    const search = viewToSearch(next)
    if (search !== window.location.search) {
      if (mode === 'push') window.history.pushState(null, '', search)
      else window.history.replaceState(null, '', search)
    }
    setView(parseView(search))
  }, [])

  return [view, change]
}
