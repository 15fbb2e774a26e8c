/**
 * The commands a newcomer runs, as real processes: `bun run start`, and the API and worker on
 * their own when a dependency is missing or the environment is wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeEventBatch } from '../worker/rollups/postgres'
import { databaseUrl, dropDatabase, obliterateQueues, uniqueName } from './kit/fixtures'
import { runToEnd, WatchedProcess, type Finished } from './kit/processes'
import { PrivateRedis } from './faults/harness'
import { createTestDatabase, testEnv, type TestDatabase } from './support'

const START_LIMIT_MS = 10_000

/** Runs a command to its end; fails the test if it is still running after `limitMs`. */
async function runToExit(cmd: string[], env: Record<string, string>, limitMs = START_LIMIT_MS): Promise<Finished> {
  const finished = await runToEnd(cmd, { env, ms: limitMs })
  expect(finished.signal).toBeNull() // a kill means it did not exit on its own in time
  return finished
}

const unreachablePostgres = 'postgres://analytics_user:secret-pw@127.0.0.1:1/analytics'
const unreachableRedis = 'redis://127.0.0.1:1'

describe('start-up checks', () => {
  test.each([
    ['API', 'server/index.ts'],
    ['worker', 'worker/index.ts'],
    ['start', 'scripts/start.ts'],
  ])('the %s exits non-zero, naming the PostgreSQL URL and how to start it, when Postgres is unreachable', async (_, entry) => {
    const { code, output } = await runToExit(['bun', entry], { DATABASE_URL: unreachablePostgres, API_PORT: '0' })
    expect(code).not.toBe(0)
    expect(output).toContain('Cannot reach PostgreSQL at postgres://analytics_user:***@127.0.0.1:1/analytics')
    expect(output).toContain('pg_ctlcluster')
    expect(output).not.toContain('secret-pw')
  })

  test.each([
    ['API', 'server/index.ts'],
    ['worker', 'worker/index.ts'],
  ])('the %s exits non-zero, naming the Redis URL, when Redis is unreachable', async (_, entry) => {
    const { code, output } = await runToExit(['bun', entry], { REDIS_URL: unreachableRedis, DATABASE_URL: testEnv.adminDatabaseUrl, API_PORT: '0' })
    expect(code).not.toBe(0)
    expect(output).toContain('Cannot reach Redis at redis://127.0.0.1:1')
    expect(output).toContain('redis-server')
  })

  describe('when Redis requires a password', () => {
    const redis = new PrivateRedis('redis-secret')
    beforeAll(() => redis.start())
    afterAll(() => redis.destroy())

    test.each([
      ['API', 'no password', 'server/index.ts', ''],
      ['worker', 'no password', 'worker/index.ts', ''],
      ['API', 'a wrong password', 'server/index.ts', 'wrong-secret'],
    ])('the %s, given %s, exits non-zero saying Redis refused it', async (_, __, entry, password) => {
      const url = password ? `redis://:${password}@127.0.0.1:${redis.port}` : `redis://127.0.0.1:${redis.port}`
      // A database that answers, so that Redis is the one dependency that fails.
      const { code, output } = await runToExit(['bun', entry], { REDIS_URL: url, DATABASE_URL: testEnv.adminDatabaseUrl, API_PORT: '0' })
      expect(code).not.toBe(0)
      expect(output).toContain(`Redis at ${password ? `redis://:***@127.0.0.1:${redis.port}` : url} refused the connection`)
      expect(output).toContain('REDIS_URL (redis://:PASSWORD@host:6379')
      expect(output).not.toContain('secret')
    })
  })

  test.each([
    ['WORKER_CONCURRENCY', 'lots', 'worker/index.ts', 'WORKER_CONCURRENCY must be a whole number'],
    ['API_PORT', '99999', 'server/index.ts', 'API_PORT must be between 0 and 65535, got 99999'],
    ['DATABASE_URL', 'mysql://x', 'server/index.ts', 'DATABASE_URL must start with postgres:// or postgresql://'],
    ['QUEUE_NAME', 'a:b', 'worker/index.ts', `QUEUE_NAME must not contain ':'`],
  ])('a bad %s stops the process with a message naming it', async (name, value, entry, message) => {
    const { code, output } = await runToExit(['bun', entry], { [name]: value })
    expect(code).toBe(1)
    expect(output).toContain(message)
  })
})

describe('bun run start', () => {
  const database = uniqueName('start')
  const queueName = uniqueName('start-events')

  afterAll(async () => {
    await dropDatabase(testEnv.adminDatabaseUrl, database)
    await obliterateQueues(testEnv.redis, queueName)
  })

  test('creates the database, serves API, dashboard and Bull Board, processes events, and stops on SIGTERM', async () => {
    const child = WatchedProcess.start('start', [process.execPath, 'run', 'start'], {
      // NODE_ENV empty: unset, as on an operator's machine (bun test sets it to "test").
      env: { DATABASE_URL: databaseUrl(testEnv.adminDatabaseUrl, database), QUEUE_NAME: queueName, API_PORT: '0', ADMIN_PASSWORD: 'start-test', NODE_ENV: '' },
    })
    const { log } = child
    // The API logs its URL and mode once it listens; production: no developer error pages.
    const listening = JSON.parse(await log.next('"api listening"')) as { url: string; mode: string }
    expect(listening.mode).toBe('production')
    const baseUrl = listening.url

    expect((await fetch(`${baseUrl}/health`)).status).toBe(200)
    const admin = { authorization: `Basic ${btoa('admin:start-test')}` }
    expect((await fetch(`${baseUrl}/`)).status).toBe(401)
    const page = await fetch(`${baseUrl}/`, { headers: admin })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<div id="root">')
    const board = await fetch(`${baseUrl}/admin/queues`, { headers: admin })
    expect(board.status).toBe(200)

    const accepted = await fetch(`${baseUrl}/event`, {
      method: 'POST',
      body: JSON.stringify({ site_id: 'start-site', event_type: 'page_view', path: '/home', user_id: 'u1', timestamp: '2025-11-14T12:00:00Z' }),
    })
    expect(accepted.status).toBe(202)
    // The worker is another process; its log says when the batch is committed.
    await log.next('"batch inserted"')
    const stats = (await (await fetch(`${baseUrl}/stats?site_id=start-site&date=2025-11-14`)).json()) as { total_views: number }
    expect(stats.total_views).toBe(1)

    expect(await child.stop('SIGTERM')).toBe(0)
    await log.closed
    expect(log.seen('"api stopped"')).toBe(true)
    expect(log.seen('"worker stopped"')).toBe(true)
  })
})

describe('bun run server', () => {
  let database: TestDatabase
  const queueName = uniqueName('server-events')
  beforeAll(async () => {
    database = await createTestDatabase('run_server')
  })
  afterAll(async () => {
    await database.drop()
    await obliterateQueues(testEnv.redis, queueName)
  })

  test('runs the API in production mode unless NODE_ENV says otherwise', async () => {
    for (const [nodeEnv, mode] of [
      ['', 'production'],
      ['development', 'development'],
    ] as const) {
      const child = WatchedProcess.start('server', [process.execPath, 'run', 'server'], {
        env: { NODE_ENV: nodeEnv, DATABASE_URL: database.url, QUEUE_NAME: queueName, API_PORT: '0', ADMIN_PASSWORD: 'server-test' },
      })
      expect((JSON.parse(await child.log.next('"api listening"')) as { mode: string }).mode).toBe(mode)
      await child.stop('SIGTERM')
      await child.log.closed
    }
  })
})

describe('the API without ADMIN_PASSWORD', () => {
  let database: TestDatabase
  const queueName = uniqueName('admin-password-events')
  const dir = mkdtempSync(join(tmpdir(), 'api-admin-password-'))
  const file = join(dir, 'state', 'admin-password')
  beforeAll(async () => {
    database = await createTestDatabase('admin_password')
  })
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    await database.drop()
    await obliterateQueues(testEnv.redis, queueName)
  })

  /** Starts the API, runs `check` once it listens, stops it; returns everything it wrote. */
  async function startAndStop(check: (baseUrl: string) => Promise<void>): Promise<string> {
    // Empty means unset, whatever the caller's environment holds.
    const child = WatchedProcess.start('api', [process.execPath, 'server/index.ts'], {
      env: { ADMIN_PASSWORD: '', ADMIN_PASSWORD_FILE: file, DATABASE_URL: database.url, QUEUE_NAME: queueName, API_PORT: '0' },
    })
    const baseUrl = (JSON.parse(await child.log.next('"api listening"')) as { url: string }).url
    await check(baseUrl)
    expect(await child.stop('SIGTERM')).toBe(0)
    await Promise.all([child.log.closed, child.stderr.closed])
    expect(child.log.seen('"api stopped"')).toBe(true)
    return `${child.log.lines.join('\n')}\n${child.stderr.lines.join('\n')}`
  }

  const loginStatus = async (baseUrl: string, password: string) =>
    (await fetch(`${baseUrl}/admin/queues`, { headers: { authorization: `Basic ${btoa(`admin:${password}`)}` } })).status

  test('generates one into an owner-only file, logs only where it is, and reuses it on the next start', async () => {
    let password = ''
    const first = await startAndStop(async (baseUrl) => {
      password = readFileSync(file, 'utf8').trim()
      expect(await loginStatus(baseUrl, password)).toBe(200)
      expect(await loginStatus(baseUrl, 'wrong')).toBe(401)
    })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700)
    expect(first).toContain(`admin password generated and stored in ${file}`)
    expect(first).not.toContain(password)

    const second = await startAndStop(async (baseUrl) => {
      expect(await loginStatus(baseUrl, password)).toBe(200)
    })
    expect(readFileSync(file, 'utf8').trim()).toBe(password)
    expect(second).toContain(`admin password read from ${file}`)
    expect(second).not.toContain(password)
  })
})

describe('bun run rollups:rebuild', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase('rebuild_cli')
  })
  afterAll(() => database.drop())

  test('recomputes a site, whole or by range, to the same rollups; bad arguments get usage', async () => {
    const day = (d: number, h: number) => new Date(Date.UTC(2025, 10, d, h)).toISOString()
    await writeEventBatch(database.db, [
      { eventId: 'a', siteId: 'cli', eventType: 'page_view', path: '/', userId: 'u1', timestamp: day(3, 10), receivedAt: day(3, 10) },
      { eventId: 'b', siteId: 'cli', eventType: 'click', path: '/x', userId: 'u2', timestamp: day(20, 23), receivedAt: day(20, 23) },
    ])
    const rollups = () => database.sql`select day::text, views, events, users from rollup_days where site_id = 'cli' order by day`
    const before = await rollups()
    await database.sql`delete from rollup_days where site_id = 'cli'` // damage, to be repaired
    for (const args of [['--site', 'cli'], ['--site', 'cli', '--from', '2025-11-01', '--to', '2025-11-30'], []]) {
      const { code } = await runToExit(['bun', 'scripts/rebuild-rollups.ts', ...args], { DATABASE_URL: database.url }, 30_000)
      expect(code).toBe(0)
      expect([...(await rollups())]).toEqual([...before])
    }
    const bad = await runToExit(['bun', 'scripts/rebuild-rollups.ts', '--from', '2025-11-01'], { DATABASE_URL: database.url })
    expect(bad.code).toBe(2)
    expect(bad.output).toContain('--from and --to go together')
  })
})
