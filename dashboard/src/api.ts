import { treaty } from '@elysiajs/eden'
import type { App } from '../../server/app'
import { authHeaders, keepShareOpening, sharedToken, shareSession } from './shared'

/** Sends the browser to the login form, coming back to this very view afterwards. */
function toLogin(): void {
  const next = window.location.pathname + window.location.search
  window.location.assign(`/login?next=${encodeURIComponent(next)}`)
}

/**
 * The typed API client: request and response types come from the server's t schemas. Calls are
 * same-origin, so the session cookie rides along (or, on a shared link's page, its session as a
 * bearer token); a 401 means the session is gone: sign in again, or open the link again.
 */
export const api = treaty<App>(window.location.origin, {
  // Eden would turn every date-like string (even "2025-11-14") into a Date, which the schema
  // types do not say: keep the JSON as the server sent it.
  parseDate: false,
  headers: authHeaders,
  onResponse(response) {
    if (response.status !== 401) return
    if (sharedToken === null) toLogin()
    else if (shareSession() !== null) {
      keepShareOpening(null)
      window.location.reload()
    }
  },
})

/** What a failed call has to say to a person: the API's `error` sentence when it gave one. */
export function errorMessage(error: { status: unknown; value: unknown }): string {
  const value = error.value
  if (typeof value === 'object' && value !== null && 'error' in value && typeof value.error === 'string') return value.error
  if (value instanceof Error) return `The API could not be reached (${value.message})`
  if (typeof value === 'string' && value) return value
  return `The API answered ${String(error.status)}`
}
