/**
 * Prints the gzipped size of every built JS asset and the total of those the page loads up front
 * (the entry chunks and everything they import statically), and exits 1 when that total is over
 * the budget. `bun run build:dashboard` runs it after every build.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

/** Initial JS budget, gzipped. */
const BUDGET_BYTES = 250_000

interface ManifestChunk {
  file: string
  isEntry?: boolean
  imports?: string[]
}

const dist = join(import.meta.dir, 'dist')
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>

// Lazy chunks (dynamic imports) are left out: they load when first used.
const initial = new Set<string>()
const visit = (key: string) => {
  const chunk = manifest[key]
  if (!chunk || initial.has(chunk.file)) return
  initial.add(chunk.file)
  chunk.imports?.forEach(visit)
}
Object.entries(manifest)
  .filter(([, chunk]) => chunk.isEntry)
  .forEach(([key]) => visit(key))

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`
const rows = readdirSync(join(dist, 'assets'))
  .filter((name) => name.endsWith('.js'))
  .map((name) => {
    const bytes = readFileSync(join(dist, 'assets', name))
    return { file: `assets/${name}`, raw: bytes.length, gzip: gzipSync(bytes).length }
  })
  .sort((a, b) => b.gzip - a.gzip)

const width = Math.max(...rows.map((row) => row.file.length))
console.log(`${'asset'.padEnd(width)}  ${'raw'.padStart(9)}  ${'gzip'.padStart(9)}  loads`)
for (const row of rows) {
  console.log(`${row.file.padEnd(width)}  ${kB(row.raw).padStart(9)}  ${kB(row.gzip).padStart(9)}  ${initial.has(row.file) ? 'initially' : 'on demand'}`)
}
const total = rows.filter((row) => initial.has(row.file)).reduce((sum, row) => sum + row.gzip, 0)
const verdict = total <= BUDGET_BYTES ? 'within' : 'OVER'
console.log(`initial JS: ${kB(total)} gzipped, ${verdict} the ${kB(BUDGET_BYTES)} budget`)
if (total > BUDGET_BYTES) process.exit(1)
