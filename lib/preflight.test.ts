import { expect, test } from 'bun:test'
import { loadTestEnv } from '../tests/env'
import { checkRedis } from './preflight'

const testEnv = loadTestEnv()

test('an unreachable Redis Cluster is named by its seed nodes, with what to do', async () => {
  const check = checkRedis({ url: 'redis://:secret@127.0.0.1:6379', clusterNodes: [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }] }, 2_000)
  await expect(check).rejects.toThrow(/^Cannot reach the Redis Cluster at 127\.0\.0\.1:1,127\.0\.0\.1:2: .+ or correct REDIS_CLUSTER_NODES\.$/)
  await check.catch((error: Error) => expect(error.message).not.toContain('secret'))
})

test('REDIS_CLUSTER_NODES naming a Redis without cluster support is refused with its answer', async () => {
  const { hostname, port } = new URL(testEnv.redis.url)
  await expect(checkRedis({ url: testEnv.redis.url, clusterNodes: [{ host: hostname, port: Number(port || 6379) }] }, 2_000)).rejects.toThrow(
    `Cannot reach the Redis Cluster at ${hostname}:${port || 6379}: ERR This instance has cluster support disabled.`,
  )
})
