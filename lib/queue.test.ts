import { afterAll, expect, test } from 'bun:test'
import { Cluster } from 'ioredis'
import type { RedisTarget } from './config'
import { createProducerConnection, createWorkerConnection, queuePrefix, type RedisConnection } from './queue'

// Never connected: only the options they were made with are read.
const opened: RedisConnection[] = []
const lazy = (make: typeof createProducerConnection, target: RedisTarget) => {
  const connection = make(target, { lazyConnect: true })
  opened.push(connection)
  return connection
}
afterAll(() => opened.forEach((connection) => connection.disconnect()))

const cluster: RedisTarget = { url: 'rediss://app:p%40ss@ignored:6379', clusterNodes: [{ host: '10.0.0.1', port: 7000 }] }

test("the queues' prefix is a hash tag on a cluster only, so a single Redis keeps its queued jobs", () => {
  expect(queuePrefix(lazy(createProducerConnection, { url: 'redis://127.0.0.1:6379' }))).toBe('bull')
  expect(queuePrefix(lazy(createProducerConnection, { url: 'redis://127.0.0.1:6379' }), 'testq')).toBe('testq')
  expect(queuePrefix(lazy(createProducerConnection, cluster))).toBe('{bull}')
  expect(queuePrefix(lazy(createProducerConnection, cluster), 'testq')).toBe('{testq}')
})

test("a cluster connection has the single connection's retry and offline-queue rules, and REDIS_URL's user, password and TLS", () => {
  const producer = lazy(createProducerConnection, cluster)
  expect(producer).toBeInstanceOf(Cluster)
  expect((producer as Cluster).options).toMatchObject({
    enableOfflineQueue: false,
    maxRedirections: 3,
    redisOptions: { username: 'app', password: 'p@ss', tls: {}, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 },
  })
  const worker = lazy(createWorkerConnection, cluster) as Cluster
  expect(worker.options).toMatchObject({ enableOfflineQueue: true, maxRedirections: 16, redisOptions: { maxRetriesPerRequest: null, connectTimeout: 5_000 } })
  // Without credentials in REDIS_URL none are sent.
  const plain = lazy(createProducerConnection, { ...cluster, url: 'redis://127.0.0.1:6379' }) as Cluster
  expect(plain.options.redisOptions).not.toHaveProperty('password')
  expect(plain.options.redisOptions).not.toHaveProperty('tls')
})
