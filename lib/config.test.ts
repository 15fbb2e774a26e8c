import { describe, expect, test } from 'bun:test'
import { ConfigError, readDatabaseUrl, readInteger, readQueueName, readRedis, readRedisUrl, redactUrl } from './config'

describe('database URL', () => {
  test('defaults follow the contract: analytics_user / analytics_pass / analytics on localhost', () => {
    expect(readDatabaseUrl({})).toBe('postgres://analytics_user:analytics_pass@127.0.0.1:5432/analytics')
  })

  test('POSTGRES_* parts are assembled and escaped', () => {
    expect(readDatabaseUrl({ POSTGRES_USER: 'u', POSTGRES_PASSWORD: 'p@ss/word', POSTGRES_DB: 'db', POSTGRES_HOST: 'pg', POSTGRES_PORT: '6543' })).toBe(
      'postgres://u:p%40ss%2Fword@pg:6543/db',
    )
  })

  test('DATABASE_URL wins over the parts', () => {
    expect(readDatabaseUrl({ DATABASE_URL: 'postgresql://a@b/c', POSTGRES_DB: 'ignored' })).toBe('postgresql://a@b/c')
  })

  test('a malformed DATABASE_URL names the variable and hides the password', () => {
    expect(() => readDatabaseUrl({ DATABASE_URL: 'http://u:pw@h/db' })).toThrow(new ConfigError('DATABASE_URL must start with postgres:// or postgresql://, got "http://u:***@h/db"'))
  })
})

test('REDIS_URL defaults to the local Redis and is checked', () => {
  expect(readRedisUrl({})).toBe('redis://127.0.0.1:6379')
  expect(() => readRedisUrl({ REDIS_URL: 'not a url' })).toThrow('REDIS_URL is not a valid URL')
})

describe('REDIS_CLUSTER_NODES', () => {
  test('unset: one Redis at REDIS_URL, as before', () => {
    expect(readRedis({})).toEqual({ url: 'redis://127.0.0.1:6379' })
    expect(readRedis({ REDIS_URL: 'redis://:pw@h:6380/2', REDIS_CLUSTER_NODES: ' ' })).toEqual({ url: 'redis://:pw@h:6380/2' })
  })

  test('host:port entries, IPv6 in brackets, are the seed nodes of a cluster', () => {
    expect(readRedis({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002', REDIS_URL: 'rediss://:pw@ignored:1' })).toEqual({
      url: 'rediss://:pw@ignored:1',
      clusterNodes: [
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    })
  })

  test.each(['redis-1', 'redis-1:', ':7000', 'redis-1:70000', 'redis-1:7000,', 'redis://redis-1:7000', 'a b:7000'])('%p is refused, naming the variable', (value) => {
    expect(() => readRedis({ REDIS_CLUSTER_NODES: value })).toThrow(new RegExp('^REDIS_CLUSTER_NODES must be host:port entries separated by commas'))
  })

  test('a cluster has database 0 only, so REDIS_URL may not name another', () => {
    expect(readRedis({ REDIS_CLUSTER_NODES: 'h:7000', REDIS_URL: 'redis://h:7000/0' }).clusterNodes).toHaveLength(1)
    expect(() => readRedis({ REDIS_CLUSTER_NODES: 'h:7000', REDIS_URL: 'redis://h:7000/3' })).toThrow(
      new ConfigError('REDIS_URL names database 3, but a Redis Cluster (REDIS_CLUSTER_NODES) has database 0 only'),
    )
  })
})

test('integers are whole and in range, with the variable named', () => {
  expect(readInteger({}, 'N', 5, 1, 10)).toBe(5)
  expect(readInteger({ N: ' 7 ' }, 'N', 5, 1, 10)).toBe(7)
  expect(() => readInteger({ N: '2.5' }, 'N', 5, 1, 10)).toThrow('N must be a whole number, got "2.5"')
  expect(() => readInteger({ N: '11' }, 'N', 5, 1, 10)).toThrow('N must be between 1 and 10, got 11')
})

test('QUEUE_NAME defaults to analytics-events and may not contain the key separator', () => {
  expect(readQueueName({})).toBe('analytics-events')
  expect(() => readQueueName({ QUEUE_NAME: 'a:b' })).toThrow("QUEUE_NAME must not contain ':'")
})

test('redactUrl hides passwords only', () => {
  expect(redactUrl('redis://:secret@host:6379')).toBe('redis://:***@host:6379')
  expect(redactUrl('postgres://user@host/db')).toBe('postgres://user@host/db')
})
