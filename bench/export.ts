/**
 * Export benchmark: `bun bench/export.ts [--events 1000000]`.
 *
 * Loads events into a fresh database with SQL, in time order across two sites as ingestion
 * writes them (so a site's rows lie scattered in the table): N events of one site and N/10 of
 * another, with realistic widths (paths, user ids, referrers, campaign tags, visit properties,
 * custom properties on one event in five). It downloads GET /sites/:id/export of each site
 * through HTTP in each format, each from a fresh API process run as `bun run server` runs it,
 * counting rows and bytes as they arrive (nothing is kept). It prints rows, bytes, seconds to the first byte and in
 * all, and the API process's resident memory: before each download and its peak during it (the
 * kernel's high-water mark, VmHWM, reset before each download, and a 200 ms sampler as a check).
 * A streamed export's peak must not grow with the rows: compare the two sites.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { API_HEAP_RAM_BYTES } from '../scripts/env'
import { createMigratedDatabase, databaseUrl, dropDatabase } from '../tests/kit/fixtures'
import { answersHealth, API_COMMAND, freePort, LoggedProcess, pollUntil } from '../tests/kit/processes'
import { PeakRssSampler } from './processes'

const DB_NAME = 'bench_export'
const BIG = 'export-big'
const SMALL = 'export-small'
const USAGE = `Usage: bun bench/export.ts [options]

  --events <n>        events of the big site; the small one has a tenth (default 1000000)
  --keep              keep the database (${DB_NAME}) afterwards
  --admin-url <url>   superuser connection (default postgres://postgres@127.0.0.1:5432/postgres)
  -h, --help`

function options() {
  try {
    const { values } = parseArgs({
      options: {
        events: { type: 'string', default: '1000000' },
        keep: { type: 'boolean', default: false },
        'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    const events = Number(values.events)
    if (!Number.isInteger(events) || events <= 0) throw new Error(`--events must be a positive whole number, got "${values.events}"`)
    return { events, keep: values.keep, adminUrl: values['admin-url'] }
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
}

const { events: EVENTS, keep, adminUrl } = options()
const dbUrl = databaseUrl(adminUrl, DB_NAME)
const say = (message: string) => console.log(`[export-bench] ${message}`)
const MB = 1024 * 1024

async function load(): Promise<void> {
  await createMigratedDatabase(adminUrl, DB_NAME)
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { jit: 'off' } })
  const started = performance.now()
  const total = EVENTS + Math.floor(EVENTS / 10)
  const chunk = 500_000
  // Over 30 days, in time order; one event in eleven is the small site's. A third anonymous.
  for (let from = 0; from < total; from += chunk) {
    await sql.unsafe(`
      insert into events (site_id, event_id, event_type, path, user_id, timestamp, received_at, created_at, referrer, source, channel,
                          utm_source, utm_medium, utm_campaign, utm_content, utm_term, browser, os, device, country, props)
      select case when i % 11 = 0 then '${SMALL}' else '${BIG}' end, 'evt-' || lpad(i::text, 10, '0'),
             case when i % 10 < 7 then 'page_view' when i % 10 < 9 then 'click' else 'signup' end,
             '/docs/section-' || (i % 37) || case when i % 3 = 0 then '/page-' || (i % 101) else '' end,
             case when i % 3 = 0 then null else 'v-' || md5((i % 40000)::text) end,
             ts, ts + interval '40 milliseconds', ts + interval '90 milliseconds',
             case when i % 4 = 0 then 'https://www.google.com/' when i % 4 = 1 then 'https://news.ycombinator.com/item' end,
             case when i % 4 = 0 then 'Google' when i % 4 = 1 then 'Hacker News' else 'Direct / None' end,
             case when i % 4 = 0 then 'Organic Search' when i % 4 = 1 then 'Organic Social' else 'Direct' end,
             case when i % 5 = 0 then 'newsletter' end, case when i % 5 = 0 then 'email' end, case when i % 5 = 0 then 'december' end,
             null, null, (array['Chrome', 'Safari', 'Firefox', 'Edge'])[1 + i % 4], (array['Windows', 'macOS', 'iOS', 'Android', 'Linux'])[1 + i % 5],
             (array['Desktop', 'Mobile', 'Laptop', 'Tablet'])[1 + i % 4], (array['US', 'DE', 'GB', 'FR', 'IN', null])[1 + i % 6],
             case when i % 5 = 0 then jsonb_build_object('plan', (array['free', 'pro', 'team'])[1 + i % 3], 'element', 'cta-' || (i % 7)) end
        from (select i, '2025-10-01T00:00:00Z'::timestamptz + (i * (30 * 86400.0 / ${total})) * interval '1 second' as ts
                from generate_series(${from + 1}, ${Math.min(from + chunk, total)}) i) g`)
    say(`loaded ${Math.min(from + chunk, total).toLocaleString()} events (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  }
  await sql`insert into sites (site_id) values (${BIG}), (${SMALL}) on conflict do nothing`
  await sql`vacuum analyze events`
  await sql.end()
}

/** A /proc/<pid>/status field in bytes. */
function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no ${field} for pid ${pid}`)
  return Number(match[1]) * 1024
}

/** Downloads an export, counting its rows (line ends) and bytes as they arrive. */
async function download(baseUrl: string, site: string, format: 'csv' | 'ndjson', headers: Record<string, string>) {
  const started = performance.now()
  const response = await fetch(`${baseUrl}/sites/${site}/export?format=${format}`, { headers })
  if (response.status !== 200) throw new Error(`export answered ${response.status}: ${await response.text()}`)
  let bytes = 0
  let lines = 0
  let firstByte = 0
  for await (const chunk of response.body!) {
    if (bytes === 0) firstByte = (performance.now() - started) / 1000
    bytes += chunk.byteLength
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  }
  // CSV: a header line; a field with a line break would add lines, and these events have none.
  return { rows: format === 'csv' ? lines - 1 : lines, bytes, firstByte, seconds: (performance.now() - started) / 1000 }
}

let api: LoggedProcess | undefined
const work = mkdtempSync(join(tmpdir(), 'export-bench-'))
const password = 'bench-only'
const headers = { authorization: `Basic ${btoa(`admin:${password}`)}` }

/** A fresh API, as `bun run server` runs it (production mode, the JavaScript heap sized for 300 MB), warmed up. */
async function startApi(): Promise<{ api: LoggedProcess; baseUrl: string }> {
  const port = freePort()
  const started = LoggedProcess.start('api', API_COMMAND, {
    env: {
      DATABASE_URL: dbUrl,
      API_PORT: String(port),
      QUEUE_NAME: 'export-bench',
      ADMIN_PASSWORD: password,
      NODE_ENV: 'production',
      BUN_JSC_forceRAMSize: API_HEAP_RAM_BYTES,
    },
    logPath: join(work, 'api.log'),
  })
  api = started
  const baseUrl = `http://127.0.0.1:${port}`
  await pollUntil('the API to listen', () => answersHealth(baseUrl), 30_000, 100, [started])
  // The route and the cursor once, on one day.
  await (await fetch(`${baseUrl}/sites/${BIG}/export?from=2025-10-01&to=2025-10-01`, { headers })).arrayBuffer()
  return { api: started, baseUrl }
}

try {
  await load()
  const rows: string[][] = []
  // Each download in an API of its own, so every peak starts from the same state.
  for (const format of ['csv', 'ndjson'] as const) {
    for (const [site, events] of [
      [SMALL, Math.floor(EVENTS / 10)],
      [BIG, EVENTS],
    ] as const) {
      const { api: measured, baseUrl } = await startApi()
      const before = status(measured.pid, 'VmRSS')
      // Resets the peak (VmHWM) to the current RSS, so the peak read after is this download's.
      writeFileSync(`/proc/${measured.pid}/clear_refs`, '5')
      const sampler = new PeakRssSampler({ api: measured.pid }).start()
      const result = await download(baseUrl, site, format, headers)
      const sampled = sampler.stop().api ?? 0
      const peak = status(measured.pid, 'VmHWM')
      await measured.stop()
      if (result.rows !== events) throw new Error(`${site} ${format}: ${result.rows} rows exported, ${events} stored`)
      rows.push([
        format,
        result.rows.toLocaleString(),
        `${(result.bytes / MB).toFixed(1)} MB`,
        result.firstByte.toFixed(2),
        result.seconds.toFixed(1),
        `${Math.round(result.rows / result.seconds).toLocaleString()}/s`,
        `${(before / MB).toFixed(0)} MB`,
        `${(peak / MB).toFixed(0)} MB`,
        `${(sampled / MB).toFixed(0)} MB`,
      ])
      say(`${site} ${format}: ${rows.at(-1)!.join(', ')}`)
    }
  }
  const header = ['format', 'rows', 'bytes', 'first byte (s)', 'seconds', 'rows/s', 'API RSS before', 'API peak RSS (VmHWM)', 'peak sampled']
  console.log(`\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`)
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
} finally {
  await api?.stop()
  if (!keep) await dropDatabase(adminUrl, DB_NAME)
}
