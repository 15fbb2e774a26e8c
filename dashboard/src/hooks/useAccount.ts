import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useRemote } from './useRemote'

export type Account = Treaty.Data<typeof api.account.get>

/** The signed-in account: name, role and sites. */
export function useAccount() {
  return useRemote<object, Account>({}, (_params, signal) => api.account.get({ fetch: { signal } }))
}
