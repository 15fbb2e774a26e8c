import { csvRecords } from '../../lib/csv-records'
import { BREAKDOWN_PROPERTIES } from '../../lib/visit-properties'
import { authHeaders } from './shared'

/** The most rows the API gives in one page of a breakdown. */
const PAGE_ROWS = 1_000

export interface ExportQuery {
  siteId: string
  from: string
  to: string
  tz: string
  interval: string
  filters?: string
}

async function csv(path: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${path}?${new URLSearchParams({ ...params, format: 'csv' })}`, { headers: authHeaders() })
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`)
  return response.text()
}

/**
 * The CSVs of a view, as the API writes them (`format=csv`): the time series and every breakdown
 * (all pages, one file each, the header once), with goals. Files are named for what they hold.
 */
export async function viewCsvs(query: ExportQuery): Promise<Record<string, string>> {
  const base = { site_id: query.siteId, from: query.from, to: query.to, tz: query.tz, ...(query.filters ? { filters: query.filters } : {}) }
  const files: Record<string, string> = { 'timeseries.csv': await csv('/stats/timeseries', { ...base, interval: query.interval }) }
  for (const property of [...BREAKDOWN_PROPERTIES, 'goal']) {
    let whole = ''
    for (let page = 1; ; page++) {
      const text = await csv('/stats/breakdown', { ...base, property, limit: String(PAGE_ROWS), page: String(page) })
      // Later pages repeat the header row: keep it once.
      whole += page === 1 ? text : text.slice(text.indexOf('\r\n') + 2)
      if (csvRecords(text) - 1 < PAGE_ROWS) break
    }
    files[`${property}.csv`] = whole
  }
  return files
}

/** Downloads the view's CSVs as one zip (fflate, loaded only when asked). */
export async function downloadViewZip(query: ExportQuery): Promise<void> {
  const [files, { strToU8, zipSync }] = await Promise.all([viewCsvs(query), import('fflate')])
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])))
  const url = URL.createObjectURL(new Blob([zip], { type: 'application/zip' }))
  const link = document.createElement('a')
  link.href = url
  link.download = `${query.siteId}_${query.from}_${query.to}.zip`
  link.click()
  URL.revokeObjectURL(url)
}
