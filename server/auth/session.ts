import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Stateless sessions: the cookie holds the user and an expiry, signed with HMAC-SHA256. Nothing
 * is stored server-side; changing SESSION_SECRET (or restarting without one) logs everyone out.
 */
export const SESSION_COOKIE = 'analytics_session'
export const SESSION_TTL_SECONDS = 7 * 24 * 3600

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url')

export function createSessionToken(secret: string, user: string, now: number = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ user, exp: Math.floor(now / 1000) + SESSION_TTL_SECONDS })).toString('base64url')
  return `${payload}.${sign(secret, payload)}`
}

/** The user of a valid, unexpired token; undefined otherwise. */
export function verifySessionToken(secret: string, token: string, now: number = Date.now()): string | undefined {
  const dot = token.indexOf('.')
  if (dot < 0) return undefined
  const payload = token.slice(0, dot)
  if (!sameSecret(token.slice(dot + 1), sign(secret, payload))) return undefined
  try {
    const { user, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { user?: unknown; exp?: unknown }
    return typeof user === 'string' && typeof exp === 'number' && exp * 1000 > now ? user : undefined
  } catch {
    return undefined
  }
}

/** A cookie value from a Cookie header. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  // Compare against the expected length even on a mismatch, so timing says nothing about it.
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length
}
