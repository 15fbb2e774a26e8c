import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import type { RangeQuery } from './useStats'
import { MAIN_REFRESH_MS, useRemote } from './useRemote'

export type Goal = Treaty.Data<ReturnType<typeof api.sites>['goals']['get']>['goals'][number]
export type Funnel = Treaty.Data<ReturnType<typeof api.sites>['funnels']['get']>['funnels'][number]
export type FunnelReport = Treaty.Data<typeof api.stats.funnel.get>

/** `version` changes when goals or funnels were added or deleted, so what shows them asks again. */
export interface Versioned {
  siteId: string
  version: number
}

/** The site's goals (admin). */
export function useGoals(query: Versioned | null) {
  return useRemote(query, ({ siteId }, signal) => api.sites({ id: siteId }).goals.get({ fetch: { signal } }))
}

/** The site's funnels (admin). */
export function useFunnels(query: Versioned | null) {
  return useRemote(query, ({ siteId }, signal) => api.sites({ id: siteId }).funnels.get({ fetch: { signal } }))
}

/** Each step of one funnel over the range, with the view's filters, asked again every minute. */
export function useFunnelReport(query: (RangeQuery & { funnelId: string; version: number }) | null) {
  return useRemote(query, ({ siteId, from, to, tz, filters, funnelId }, signal) =>
    api.stats.funnel.get({ query: { site_id: siteId, funnel_id: funnelId, from, to, tz, filters }, fetch: { signal } }),
    MAIN_REFRESH_MS,
  )
}
