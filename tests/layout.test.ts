/**
 * The layout the README's "Where things are" table describes: the API (server/) and the worker
 * (worker/) share contracts through lib/ and never import each other; lib/ imports neither.
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..')

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => join(folder, file))
}

/** Top-level folders the relative imports of a file reach. */
function importedFolders(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8')
  const targets = [...source.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/gm)].map((match) => match[1] ?? match[2]!)
  return targets.map((target) => relative(ROOT, resolve(ROOT, dirname(file), target)).split('/')[0]!)
}

test.each([
  ['server', ['worker']],
  ['worker', ['server']],
  ['lib', ['server', 'worker', 'dashboard']],
])('nothing in %s/ imports from %p', (folder, forbidden) => {
  const crossings = sourcesUnder(folder).flatMap((file) =>
    importedFolders(file)
      .filter((target) => forbidden.includes(target))
      .map((target) => `${file} -> ${target}/`),
  )
  expect(crossings).toEqual([])
})

test('the check sees imports (a file of server/ does import lib/)', () => {
  expect(importedFolders('server/index.ts')).toContain('lib')
})

test.each([
  ['server/app.ts', 'server', []],
  // rollups/ and visits/ are the ingest handler's arithmetic and SQL, not features of their own.
  ['worker/index.ts', 'worker', ['rollups', 'visits']],
])('every feature folder of %s is one import away from it', (entry, folder, library) => {
  const source = readFileSync(join(ROOT, entry), 'utf8')
  const reached = new Set([...source.matchAll(/from '\.\/([^/']+)\//g)].map((match) => match[1]!))
  const folders = readdirSync(join(ROOT, folder), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
  expect(folders.filter((name) => !reached.has(name) && !(library as string[]).includes(name))).toEqual([])
  expect(folders.length).toBeGreaterThan(0)
})
