/** Builds the dashboard with Vite when dashboard/dist is missing or older than its sources. */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dir, '..')
const dashboard = join(root, 'dashboard')
const builtIndex = join(dashboard, 'dist', 'index.html')

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path)
    .filter((name) => name !== 'dist' && name !== 'node_modules')
    .reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs)
}

export function dashboardIsStale(): boolean {
  if (!existsSync(builtIndex)) return true
  // The dashboard imports only types from server/, which do not change the built files.
  return newestMtime(dashboard) > statSync(builtIndex).mtimeMs
}

export async function buildDashboard(): Promise<void> {
  const build = Bun.spawn(['bun', 'x', 'vite', 'build', '--config', join(dashboard, 'vite.config.ts')], {
    cwd: root,
    stdout: 'inherit',
    stderr: 'inherit',
  })
  if ((await build.exited) !== 0) throw new Error('dashboard build failed (see the Vite output above)')
  // Prints the initial JavaScript's gzipped size and fails over its budget.
  const size = Bun.spawn(['bun', join(dashboard, 'report-size.ts')], { cwd: root, stdout: 'inherit', stderr: 'inherit' })
  if ((await size.exited) !== 0) throw new Error('the dashboard is over its JavaScript budget (see above)')
}

if (import.meta.main) {
  const force = process.argv.includes('--force')
  if (force || dashboardIsStale()) await buildDashboard()
  else console.log('dashboard build is up to date')
}
