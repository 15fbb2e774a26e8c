import { randomBytes } from 'node:crypto'
import type { RedisConnection } from '../../lib/queue'

/**
 * A day's salt outlives its day by one more, for requests that straddle midnight; once it has
 * expired, no visitor id of that day can be recomputed from an address, nor linked to the next
 * day's.
 */
export const VISITOR_SALT_TTL_SECONDS = 2 * 24 * 3600

/** The visitor id of a browser, known by its IP address and User-Agent, on a site, on the UTC day of `receivedAt`. */
export type VisitorIdOf = (siteId: string, ip: string, userAgent: string, receivedAt: Date) => Promise<string>

/**
 * Visitor ids for events that ask for one (`derive_user_id`), counted without cookies as
 * Plausible does: a hash of a random salt of the day, the site, the address and the User-Agent.
 * Neither the address nor the User-Agent is stored. The salt lives in Redis under
 * `${keyPrefix}:YYYY-MM-DD`, so every API process gives one browser the same id all day; each
 * process reads it once a day.
 */
export function createVisitorIds(redis: RedisConnection, keyPrefix: string): VisitorIdOf {
  let cached: { day: string; salt: Promise<string> } | undefined
  const saltOf = (day: string) => {
    if (cached?.day !== day) {
      const salt = readSalt(redis, `${keyPrefix}:${day}`)
      cached = { day, salt }
      // A failed read is tried again by the next request, not remembered.
      salt.catch(() => {
        if (cached?.salt === salt) cached = undefined
      })
    }
    return cached.salt
  }
  return async (siteId, ip, userAgent, receivedAt) => {
    const salt = await saltOf(receivedAt.toISOString().slice(0, 10))
    // 96 bits: collisions between a site's visitors of one day are out of reach.
    return `v-${new Bun.CryptoHasher('sha256').update(`${salt}\0${siteId}\0${ip}\0${userAgent}`).digest('hex').slice(0, 24)}`
  }
}

/** The day's salt: the first process to ask makes it, the others read it. */
async function readSalt(redis: RedisConnection, key: string): Promise<string> {
  await redis.set(key, randomBytes(32).toString('base64url'), 'EX', VISITOR_SALT_TTL_SECONDS, 'NX')
  const salt = await redis.get(key)
  if (salt === null) throw new Error(`visitor salt ${key} vanished right after it was set`)
  return salt
}
