import { expect, test } from 'bun:test'
import { loadWorkerEnv } from './env'

test('WORKER_CONCURRENCY defaults to the cores, at most 5, and an explicit value wins', () => {
  expect(loadWorkerEnv({}, 1).concurrency).toBe(1)
  expect(loadWorkerEnv({}, 2).concurrency).toBe(2)
  expect(loadWorkerEnv({}, 64).concurrency).toBe(5)
  expect(loadWorkerEnv({ WORKER_CONCURRENCY: '5' }, 2).concurrency).toBe(5)
  expect(loadWorkerEnv({ WORKER_CONCURRENCY: '' }, 3).concurrency).toBe(3)
  expect(() => loadWorkerEnv({ WORKER_CONCURRENCY: '0' }, 2)).toThrow('WORKER_CONCURRENCY must be between 1 and 256, got 0')
})

test('WORKER_PREFETCH and WORKER_PREFETCH_EVENTS bound what the worker holds', () => {
  expect(loadWorkerEnv({}, 2).prefetch).toEqual({ jobs: 200, events: 40_000 })
  expect(loadWorkerEnv({ WORKER_PREFETCH: '50', WORKER_PREFETCH_EVENTS: '10000' }, 2).prefetch).toEqual({ jobs: 50, events: 10_000 })
  expect(() => loadWorkerEnv({ WORKER_PREFETCH_EVENTS: 'many' }, 2)).toThrow('WORKER_PREFETCH_EVENTS')
})

test('RAW_RETENTION_DAYS is unset by default (raw events are kept), else a whole number of days', () => {
  expect(loadWorkerEnv({}, 2).rawRetentionDays).toBeUndefined()
  expect(loadWorkerEnv({ RAW_RETENTION_DAYS: ' ' }, 2).rawRetentionDays).toBeUndefined()
  expect(loadWorkerEnv({ RAW_RETENTION_DAYS: '400' }, 2).rawRetentionDays).toBe(400)
  expect(() => loadWorkerEnv({ RAW_RETENTION_DAYS: '0' }, 2)).toThrow('RAW_RETENTION_DAYS must be between 1 and 36500, got 0')
  expect(() => loadWorkerEnv({ RAW_RETENTION_DAYS: '30d' }, 2)).toThrow('RAW_RETENTION_DAYS must be a whole number, got "30d"')
})
