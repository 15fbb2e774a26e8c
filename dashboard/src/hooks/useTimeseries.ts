import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import type { RangeQuery } from './useStats'
import { MAIN_REFRESH_MS, useRemote } from './useRemote'

export type Timeseries = Treaty.Data<typeof api.stats.timeseries.get>

/** Views and unique users per hour or per day, every bucket of the range included, asked again every minute. */
export function useTimeseries(query: (RangeQuery & { interval: 'hour' | 'day' }) | null) {
  return useRemote(query, ({ siteId, from, to, tz, interval, filters }, signal) =>
    api.stats.timeseries.get({ query: { site_id: siteId, from, to, tz, interval, filters }, fetch: { signal } }),
    MAIN_REFRESH_MS,
  )
}
