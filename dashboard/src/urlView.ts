import { useCallback, useEffect, useState } from 'react'
import { splitExpression, splitUnescaped, unescapeValue } from '../../lib/filter-syntax'
import { MAX_RANGE_DAYS } from '../../lib/range-limits'
import { addDays, dayCount, isCalendarDate, isTimeZone, PRESET_LABELS, PRESETS, type Preset, type RangeChoice } from './dates'

/**
 * What the dashboard shows, kept in the URL query so that a view can be shared and reloaded:
 * `?site=shop&range=7d&tz=Europe/Paris&filters=source%3D%3DGoogle` or `?site=shop&from=2025-11-01&to=2025-11-14`.
 * No `site` means the site last chosen here, or the one with the latest event; no `tz` means the site's own time zone.
 */
export interface View {
  site: string | null
  range: RangeChoice
  tz: string | null
  /** The API's `filters` text (`source==Google;country!=US`), or null for none. */
  filters: string | null
}

/**
 * A URL parameter the dashboard could not use as given: what was wrong, and what it shows instead
 * (`used` is left out where only the dashboard knows it, for `site` and `tz`).
 */
export interface UrlNotice {
  parameter: 'site' | 'range' | 'from' | 'to' | 'tz' | 'filters'
  given: string
  problem: string
  used?: string
}

const DEFAULT_RANGE: RangeChoice = { preset: '7d' }
/** As the API takes site ids. */
const MAX_SITE_LENGTH = 128

function readRange(query: URLSearchParams, notices: UrlNotice[]): RangeChoice {
  const from = query.get('from')
  const to = query.get('to')
  const preset = query.get('range')
  const isPreset = preset !== null && (PRESETS as readonly string[]).includes(preset)
  const fallback: RangeChoice = isPreset ? { preset: preset as Preset } : DEFAULT_RANGE
  const fallbackLabel = PRESET_LABELS[fallback.preset as Preset]
  if (from !== null || to !== null) {
    if (from === null || to === null) {
      const [given, missing] = from === null ? (['to', 'from'] as const) : (['from', 'to'] as const)
      notices.push({ parameter: given, given: query.get(given)!, problem: `needs ${missing} as well`, used: fallbackLabel })
      return fallback
    }
    for (const [parameter, value] of [['from', from], ['to', to]] as const) {
      if (!isCalendarDate(value)) {
        notices.push({ parameter, given: value, problem: 'is not a calendar date in YYYY-MM-DD form', used: fallbackLabel })
        return fallback
      }
    }
    if (from > to) {
      notices.push({ parameter: 'from', given: from, problem: `is after to (${to})`, used: fallbackLabel })
      return fallback
    }
    const days = dayCount({ from, to })
    if (days > MAX_RANGE_DAYS) {
      const clipped = addDays(to, 1 - MAX_RANGE_DAYS)
      notices.push({ parameter: 'from', given: from, problem: `makes a range of ${days} days; the API answers at most ${MAX_RANGE_DAYS}`, used: `from ${clipped}` })
      return { preset: 'custom', from: clipped, to }
    }
    return { preset: 'custom', from, to }
  }
  if (preset !== null && !isPreset) notices.push({ parameter: 'range', given: preset, problem: `is not one of ${PRESETS.join(', ')}`, used: fallbackLabel })
  return fallback
}

/** The filters text without the expressions that cannot be read (the API says what is wrong with the rest). */
function readFilters(text: string | null, notices: UrlNotice[]): string | null {
  if (!text) return null
  const readable = splitUnescaped(text, ';').filter((expression) => {
    const parts = splitExpression(expression)
    const values = parts && (parts.symbol === '~' ? [parts.rest] : splitUnescaped(parts.rest, '|'))
    if (values && values.every((value) => value !== '' && unescapeValue(value) !== null)) return true
    notices.push({ parameter: 'filters', given: expression, problem: 'is no filter: a property, then ==, != or ~, then a value', used: 'the view without it' })
    return false
  })
  return readable.length > 0 ? readable.join(';') : null
}

/** Reads a view from a query string; what it cannot use falls back to the default for that part, with a notice saying so. */
export function parseView(search: string): { view: View; notices: UrlNotice[] } {
  const query = new URLSearchParams(search)
  const notices: UrlNotice[] = []
  const site = query.get('site')
  const tz = query.get('tz')
  // Control characters, or more than the API takes: no site could have this id.
  const siteOk = site !== null && site.length >= 1 && site.length <= MAX_SITE_LENGTH && !/[\u0000-\u001f\u007f]/.test(site)
  if (site !== null && !siteOk) notices.push({ parameter: 'site', given: site, problem: `is not a site id (1 to ${MAX_SITE_LENGTH} characters, no control characters)` })
  const tzOk = tz !== null && tz !== '' && isTimeZone(tz)
  if (tz !== null && !tzOk) notices.push({ parameter: 'tz', given: tz, problem: 'is not a time zone this browser knows' })
  const range = readRange(query, notices)
  const filters = readFilters(query.get('filters'), notices)
  return { view: { site: siteOk ? site : null, range, tz: tzOk ? tz : null, filters }, notices }
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
 * The view in the URL, and what the URL that opened it held but could not be used. A person's
 * change adds a history entry (so Back returns to the previous view, through popstate) and
 * dismisses the notices; filling in a default replaces the current entry and keeps them.
 */
export function useUrlView(): [View, (next: View, history?: 'push' | 'replace') => void, UrlNotice[]] {
  const [state, setState] = useState(() => parseView(window.location.search))

  useEffect(() => {
    const onPopState = () => setState(parseView(window.location.search))
    window.addEventListener('popstate', onPopState)
    return () => window.removeEventListener('popstate', onPopState)
  }, [])

  const change = useCallback((next: View, mode: 'push' | 'replace' = 'push') => {
    const search = viewToSearch(next)
    if (search !== window.location.search) {
      if (mode === 'push') window.history.pushState(null, '', search)
      else window.history.replaceState(null, '', search)
    }
    const { view } = parseView(search)
    setState((old) => ({ view, notices: mode === 'push' ? [] : old.notices }))
  }, [])

  return [state.view, change, state.notices]
}
