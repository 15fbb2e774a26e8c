import type { Site } from './hooks/useSites'

/**
 * A shared link's page, `/share/<token>`: the dashboard of one site for whoever holds the link.
 * The page trades the token (and the link's password, if it has one) for a session token, kept
 * for this tab only, and sends it as a bearer token with every API call.
 */
const SHARE_PATH = /^\/share\/(sl_[A-Za-z0-9_-]{43})$/

/** The link's token when this page is a shared link's, else null. */
export const sharedToken: string | null = SHARE_PATH.exec(window.location.pathname)?.[1] ?? null

/** What trading the link gave: the session and the one site it reads. */
export interface ShareOpening {
  session: string
  site_id: string
  site: Site | null
}

const storageKey = `analytics-share:${sharedToken}`
const stored = (): ShareOpening | null => {
  try {
    return sharedToken === null ? null : (JSON.parse(sessionStorage.getItem(storageKey) ?? 'null') as ShareOpening | null)
  } catch {
    return null
  }
}
let opening: ShareOpening | null = stored()

export const shareOpening = () => opening
export const shareSession = () => opening?.session ?? null

/** What every API call carries besides the cookie: a shared link's session, on its page. */
export const authHeaders = (): Record<string, string> | undefined => {
  const session = shareSession()
  return session === null ? undefined : { authorization: `Bearer ${session}` }
}

export function keepShareOpening(value: ShareOpening | null): void {
  opening = value
  if (sharedToken === null) return
  if (value === null) sessionStorage.removeItem(storageKey)
  else sessionStorage.setItem(storageKey, JSON.stringify(value))
}
