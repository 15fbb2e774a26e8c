import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useRemote } from './useRemote'

export type Sites = Treaty.Data<typeof api.sites.get>
export type Site = Sites['sites'][number]

/** Every site that has sent events (that this account reads), with its time zone; a new `version` asks again. */
export function useSites(version = 0) {
  return useRemote<{ version: number }, Sites>({ version }, (_params, signal) => api.sites.get({ fetch: { signal } }))
}
