import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useRemote } from './useRemote'

export type Sites = Treaty.Data<typeof api.sites.get>
export type Site = Sites['sites'][number]

/** Every site that has sent events, with its time zone. */
export function useSites() {
  return useRemote<object, Sites>({}, (_params, signal) => api.sites.get({ fetch: { signal } }))
}
