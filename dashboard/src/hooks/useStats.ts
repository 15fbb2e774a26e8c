import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { MAIN_REFRESH_MS, useRemote, type Answer } from './useRemote'

/** The range answer; GET /stats also has a one-day answer for callers that send only a date. */
export type RangeStats = Extract<Treaty.Data<typeof api.stats.get>, { event_types: unknown }>

/** One site over local dates `from`..`to` (both included) in time zone `tz`. */
export interface RangeQuery {
  siteId: string
  from: string
  to: string
  tz: string
  /** The API's `filters` text, when the view has some. */
  filters?: string
}

async function loadStats({ siteId, from, to, tz, filters }: RangeQuery, signal: AbortSignal): Promise<Answer<RangeStats>> {
  const { data, error } = await api.stats.get({ query: { site_id: siteId, from, to, tz, filters }, fetch: { signal } })
  if (error) return { data: null, error }
  // Asked with from and to, the API gives the range answer; its type is a union of both answers.
  if (!('event_types' in data)) return { data: null, error: { status: 200, value: 'The API gave a one-day answer to a range question' } }
  return { data, error: null }
}

/** Totals (views, visitors, visits and their figures) and event types of a site over a date range, asked again every minute. */
export function useStats(query: RangeQuery | null) {
  return useRemote(query, loadStats, MAIN_REFRESH_MS)
}
