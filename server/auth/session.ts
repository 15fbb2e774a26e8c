import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { and, eq, gt, lt, sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { sessions } from '../../drizzle/schema'

/**
 * Server-side sessions: the cookie (or a shared link's bearer session) holds 32 random bytes, the
 * database their SHA-256 and an expiry. Signing out, disabling the account or revoking the link
 * deletes the row, so the token is refused at once by every API process.
 */
export const SESSION_COOKIE = 'analytics_session'
export const SESSION_TTL_SECONDS = 7 * 24 * 3600

/** 32 random bytes in base64url, after an optional prefix that says what the token opens. */
export const randomToken = (prefix = '') => prefix + randomBytes(32).toString('base64url')
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/
/** Whether `token` is `prefix` then 32 random bytes in base64url: anything else is never looked up. */
export const isToken = (token: string, prefix = '') => token.startsWith(prefix) && TOKEN_BODY.test(token.slice(prefix.length))
/** What the database keeps of a random token: enough to find it, useless to replay. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url')

/** A shared link's session is a bearer token with this prefix. */
export const LINK_SESSION_PREFIX = 'ss_'

export type SessionOwner = { userId: string } | { siteId: string; tokenId: string }

export interface SessionStore {
  /** A new session for an account or a shared link; returns its token. */
  create(owner: SessionOwner): Promise<string>
  /** Whose live session this is, or undefined (unknown, malformed, expired or ended). */
  ownerOf(token: string): Promise<SessionOwner | undefined>
  /** Ends the session; unknown tokens are ignored. */
  revoke(token: string): Promise<void>
}

export function createSessionStore(db: Db): SessionStore {
  return {
    async create(owner) {
      const token = randomToken('userId' in owner ? '' : LINK_SESSION_PREFIX)
      // Expired rows are useless; clearing them here keeps the table as small as the live sessions.
      await db.delete(sessions).where(lt(sessions.expiresAt, sql`now()`))
      await db.insert(sessions).values({ tokenHash: tokenHash(token), ...owner, expiresAt: sql`now() + make_interval(secs => ${SESSION_TTL_SECONDS})` })
      return token
    },
    async ownerOf(token) {
      if (!isToken(token) && !isToken(token, LINK_SESSION_PREFIX)) return undefined
      const [row] = await db
        .select({ userId: sessions.userId, siteId: sessions.siteId, tokenId: sessions.tokenId })
        .from(sessions)
        .where(and(eq(sessions.tokenHash, tokenHash(token)), gt(sessions.expiresAt, sql`now()`)))
      if (!row) return undefined
      return row.userId !== null ? { userId: row.userId } : { siteId: row.siteId!, tokenId: row.tokenId! }
    },
    async revoke(token) {
      await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash(token)))
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
