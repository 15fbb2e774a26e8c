import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { once } from 'node:events'
import { testEnv, uniqueName } from '../../tests/support'
import { createProducerConnection } from '../../lib/queue'
import { createVisitorIds, VISITOR_SALT_TTL_SECONDS } from './visitors'

const redis = createProducerConnection(testEnv.redis)
const prefix = uniqueName('visitor_salt_test')
// The API's kind of connection: it refuses commands until it is connected.
beforeAll(async () => {
  if (redis.status !== 'ready') await once(redis, 'ready')
})
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

const monday = new Date('2026-11-23T23:59:59Z')
const tuesday = new Date('2026-11-24T00:00:01Z')

describe('visitor ids', () => {
  test('are the same all day in every API process, and new the next day', async () => {
    const api1 = createVisitorIds(redis, prefix)
    const api2 = createVisitorIds(redis, prefix)
    const id = await api1('site', '203.0.113.7', 'Firefox/140', monday)
    expect(await api2('site', '203.0.113.7', 'Firefox/140', new Date('2026-11-23T00:00:00Z'))).toBe(id)
    expect(await api1('site', '203.0.113.7', 'Firefox/140', tuesday)).not.toBe(id)
    expect(await api2('site', '203.0.113.8', 'Firefox/140', monday)).not.toBe(id)
  })

  test("each day's salt expires two days after it was made", async () => {
    await createVisitorIds(redis, prefix)('site', '203.0.113.7', 'Firefox/140', monday)
    const ttl = await redis.ttl(`${prefix}:2026-11-23`)
    expect(ttl).toBeGreaterThan(VISITOR_SALT_TTL_SECONDS - 60)
    expect(ttl).toBeLessThanOrEqual(VISITOR_SALT_TTL_SECONDS)
  })

  test('a failed salt read fails that request only: the next one reads it again', async () => {
    // Not connected yet, and producers never queue commands offline: the first command fails at
    // once (and starts connecting).
    const connection = createProducerConnection(testEnv.redis, { lazyConnect: true })
    try {
      const visitorIdOf = createVisitorIds(connection, prefix)
      await expect(visitorIdOf('site', '203.0.113.7', 'Firefox/140', monday)).rejects.toThrow()
      if (connection.status !== 'ready') await once(connection, 'ready')
      expect(await visitorIdOf('site', '203.0.113.7', 'Firefox/140', monday)).toMatch(/^v-[0-9a-f]{24}$/)
    } finally {
      connection.disconnect()
    }
  })
})
