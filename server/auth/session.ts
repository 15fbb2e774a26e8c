import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { and, eq, gt, lt, sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { sessions } from '../../drizzle/schema'

/**
 * Server-side sessions: the cookie holds 32 random bytes, the database their HMAC with the user
 * and an expiry. Signing out deletes the row, so the cookie is refused at once by every API
 * process. The HMAC is keyed by the admin's credentials, so changing ADMIN_PASSWORD ends every
 * session too (a leaked cookie does not outlive the password it was signed in with).
 */
export const SESSION_COOKIE = 'analytics_session'
export const SESSION_TTL_SECONDS = 7 * 24 * 3600

const TOKEN = /^[A-Za-z0-9_-]{43}$/

export interface SessionStore {
  /** A new session for `username`; returns the cookie's token. */
  create(username: string): Promise<string>
  /** The user of a live session, or undefined (unknown, malformed, expired or signed out). */
  userOf(token: string): Promise<string | undefined>
  /** Ends the session; unknown tokens are ignored. */
  revoke(token: string): Promise<void>
}

/** What the database keeps of a token: its HMAC under a key derived from the credentials. */
export function sessionHashOf(credentials: { user: string; password: string }): (token: string) => string {
  const key = createHash('sha256').update(`${credentials.user}\u0000${credentials.password}`).digest()
  return (token) => createHmac('sha256', key).update(token).digest('base64url')
}

export function createSessionStore(db: Db, credentials: { user: string; password: string }): SessionStore {
  const hashOf = sessionHashOf(credentials)
  return {
    async create(username) {
      const token = randomBytes(32).toString('base64url')
      // Expired rows are useless; clearing them here keeps the table as small as the live sessions.
      await db.delete(sessions).where(lt(sessions.expiresAt, sql`now()`))
      await db.insert(sessions).values({ tokenHash: hashOf(token), username, expiresAt: sql`now() + make_interval(secs => ${SESSION_TTL_SECONDS})` })
      return token
    },
    async userOf(token) {
      if (!TOKEN.test(token)) return undefined
      const [row] = await db
        .select({ username: sessions.username })
        .from(sessions)
        .where(and(eq(sessions.tokenHash, hashOf(token)), gt(sessions.expiresAt, sql`now()`)))
      return row?.username
    },
    async revoke(token) {
      if (TOKEN.test(token)) await db.delete(sessions).where(eq(sessions.tokenHash, hashOf(token)))
    },
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
