/**
 * The commands a newcomer runs, as real processes: `bun run start`, and the API and worker on
 * their own when a dependency is missing or the environment is wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import postgres from 'postgres'
import { createIngestQueue, createMaintenanceQueue, createProducerConnection } from '../lib/queue'
import { writeEventBatch } from '../worker/rollups/postgres'
import { createTestDatabase, testEnv, uniqueName, type TestDatabase } from './support'

const root = resolve(import.meta.dir, '..')
const START_LIMIT_MS = 10_000

interface Finished {
  code: number
  output: string
}

/** Runs a command to its end; fails the test if it is still running after `limitMs`. */
async function runToExit(cmd: string[], env: Record<string, string>, limitMs = START_LIMIT_MS): Promise<Finished> {
  const child = Bun.spawn(cmd, { cwd: root, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  clearTimeout(killer)
  expect(child.signalCode).toBeNull() // a kill means it did not exit on its own in time
  return { code, output: stdout + stderr }
}

/** Reads a child's output line by line and lets a test await the first line containing a text. */
class LineWatcher {
  private lines: string[] = []
  private waiters: { text: string; resolve(line: string): void }[] = []
  readonly closed: Promise<void>

  constructor(stream: ReadableStream<Uint8Array>) {
    this.closed = (async () => {
      let partial = ''
      const decoder = new TextDecoder()
      for await (const chunk of stream) {
        const parts = (partial + decoder.decode(chunk)).split('\n')
        partial = parts.pop()!
        for (const line of parts) this.add(line)
      }
      if (partial) this.add(partial)
    })()
  }

  private add(line: string) {
    this.lines.push(line)
    for (const waiter of this.waiters.filter((w) => line.includes(w.text))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  }

  seen(text: string): boolean {
    return this.lines.some((line) => line.includes(text))
  }

  /** The first line (already seen or still to come) that contains `text`. */
  next(text: string): Promise<string> {
    const line = this.lines.find((l) => l.includes(text))
    if (line) return Promise.resolve(line)
    return new Promise((resolve, reject) => {
      this.waiters.push({ text, resolve })
      void this.closed.then(() => reject(new Error(`output ended without a line containing ${text}:\n${this.lines.join('\n')}`)))
    })
  }
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
    const { code, output } = await runToExit(['bun', entry], { REDIS_URL: unreachableRedis, API_PORT: '0' })
    expect(code).not.toBe(0)
    expect(output).toContain('Cannot reach Redis at redis://127.0.0.1:1')
    expect(output).toContain('redis-server')
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
  const databaseUrl = (() => {
    const url = new URL(testEnv.adminDatabaseUrl)
    url.pathname = `/${database}`
    return url.toString()
  })()

  afterAll(async () => {
    const admin = postgres(testEnv.adminDatabaseUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`drop database if exists "${database}" with (force)`)
    await admin.end()
    const redis = createProducerConnection(testEnv.redisUrl)
    // The worker registered the prune scheduler on the maintenance queue beside the ingest queue.
    for (const queue of [createIngestQueue(redis, { name: queueName }), createMaintenanceQueue(redis, { name: queueName })]) {
      await queue.obliterate({ force: true })
      await queue.close()
    }
    await redis.quit()
  })

  test('creates the database, serves API, dashboard and Bull Board, processes events, and stops on SIGTERM', async () => {
    const child = Bun.spawn(['bun', 'run', 'start'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl, QUEUE_NAME: queueName, API_PORT: '0', ADMIN_PASSWORD: 'start-test' },
      stdout: 'pipe',
      stderr: 'inherit',
    })
    const log = new LineWatcher(child.stdout)
    // The API logs its URL once it listens.
    const baseUrl = (JSON.parse(await log.next('"api listening"')) as { url: string }).url

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

    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    await log.closed
    expect(log.seen('"api stopped"')).toBe(true)
    expect(log.seen('"worker stopped"')).toBe(true)
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
