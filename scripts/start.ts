/**
 * `bun run start`: the whole product on one machine. Checks Postgres and Redis, creates and
 * migrates the database, builds the dashboard if needed, then runs the API and the worker as two
 * processes and stops both when either exits or on SIGINT/SIGTERM.
 */
import { resolve } from 'node:path'
import { createLogger, errorFields } from '../lib/log'
import { checkRedis } from '../lib/preflight'
import { buildDashboard, dashboardIsStale } from './build-dashboard'
import { loadScriptsEnv, type ScriptsEnv } from './env'
import { prepareDatabase } from './migrate'

const log = createLogger('start')
const root = resolve(import.meta.dir, '..')

let env: ScriptsEnv
try {
  env = loadScriptsEnv()
  await Promise.all([prepareDatabase(env.databaseUrl, env.adminDatabaseUrl), checkRedis(env.redis)])
  if (dashboardIsStale()) await buildDashboard()
} catch (error) {
  log.error('start failed', errorFields(error))
  process.exit(1)
}

const children = [
  Bun.spawn(['bun', 'server/index.ts'], { cwd: root, env: env.apiProcessEnv, stdout: 'inherit', stderr: 'inherit' }),
  Bun.spawn(['bun', 'worker/index.ts'], { cwd: root, env: env.workerProcessEnv, stdout: 'inherit', stderr: 'inherit' }),
]

const stopAll = (signal: NodeJS.Signals) => {
  for (const child of children) if (child.exitCode === null) child.kill(signal)
}
process.on('SIGINT', () => stopAll('SIGINT'))
process.on('SIGTERM', () => stopAll('SIGTERM'))

// The first child to exit decides the exit code; the other is stopped gracefully.
const exitCode = await Promise.race(children.map((child) => child.exited))
stopAll('SIGTERM')
await Promise.all(children.map((child) => child.exited))
process.exit(exitCode)
