import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import type { RangeQuery } from './useStats'
import { MAIN_REFRESH_MS, useRemote } from './useRemote'

export type Breakdown = Treaty.Data<typeof api.stats.breakdown.get>
// The panels ask for visit properties and pages: rows with views (goals and custom properties answer others).
export type BreakdownRow = Extract<Breakdown['results'][number], { views: number }>
/** The properties the API breaks down by, as its query schema lists them. */
export type BreakdownProperty = Parameters<typeof api.stats.breakdown.get>[0]['query']['property']

/** Rows a panel shows, and rows its details view lists. */
export const PANEL_ROWS = 10
export const DETAILS_ROWS = 100

export interface BreakdownQuery extends RangeQuery {
  property: BreakdownProperty
  limit: number
  /** Not sent: bumped when what the answer depends on changed (a goal added), so it is asked again. */
  version?: number
}

/** One property's values over the range, most visitors first, asked again every minute. */
export function useBreakdown(query: BreakdownQuery | null) {
  return useRemote(query, ({ siteId, from, to, tz, property, limit, filters }, signal) =>
    api.stats.breakdown.get({ query: { site_id: siteId, property, from, to, tz, limit, filters }, fetch: { signal } }),
    MAIN_REFRESH_MS,
  )
}
