import { Elysia } from 'elysia'
import type { Db } from '../../drizzle/client'
import { errorFields, type Logger } from '../../lib/log'
import type { Access } from '../access'
import { attachment, CSV_CONTENT_TYPE, csvRecord, fileNamePart } from '../csv'
import { ErrorResponse } from '../errors'
import { SiteParams } from '../sites/model'
import { getSiteZones, rangeBounds } from '../stats/buckets'
import { checkOrder, checkRange } from '../stats/question'
import { ExportQuery, type ExportFormat } from './model'
import { droppedWithin, EXPORT_COLUMNS, exportEvents, type ExportRow, type ExportWindow } from './queries'
import { cursorBody } from './stream'

const NDJSON_CONTENT_TYPE = 'application/x-ndjson; charset=utf-8'
/** Present when the range reaches back past the raw events kept: their first instant; events before it were dropped by retention. */
export const DROPPED_HEADER = 'raw-events-dropped-before'
/** A client that takes nothing for this long has its download cut off, which frees the cursor's connection. */
export const EXPORT_STALL_MS = 60_000

const download = (description: string) => ({ description, content: { 'text/csv': { schema: { type: 'string' as const } }, 'application/x-ndjson': { schema: { type: 'string' as const } } } })
const refusal = (description: string) => ({ description, content: { 'application/json': { schema: ErrorResponse } } })

/** GET /sites/:id/export: a site's raw events, streamed (admin only). */
export function exportRoutes(deps: { reads: Db; access: Access; log: Logger }) {
  return new Elysia({ name: 'export', prefix: '/sites/:id/export' }).use(deps.access.plugin).guard({ access: 'admin' }, (admins) =>
    admins.get(
      '',
      async ({ params, query, request }) => {
        checkRange(query)
        const format: ExportFormat = query.format ?? 'csv'
        let window: ExportWindow = null
        if (query.from !== undefined && query.to !== undefined) {
          checkOrder(query.from, query.to)
          // Days of the site's zone, as /stats counts them.
          const { rollupTimezone: tz } = await getSiteZones(deps.reads, params.id)
          const [start, end] = rangeBounds({ siteId: params.id, from: query.from, to: query.to, tz, rollupTz: tz })
          window = { start, end }
        }
        const droppedBefore = await droppedWithin(deps.reads, window)
        const body = await cursorBody<ExportRow>({
          head: format === 'csv' ? csvRecord(EXPORT_COLUMNS) : '',
          encode: format === 'csv' ? (rows) => rows.map((row) => csvRecord(row)).join('') : (rows) => rows.map((row) => `${row[0]}\n`).join(''),
          run: (onRows) => exportEvents(deps.reads, params.id, window, format, onRows),
          signal: request.signal,
          stallMs: EXPORT_STALL_MS,
          onLateError: (error) => deps.log.error('export cut off', { siteId: params.id, ...errorFields(error) }),
        })
        const range = query.from !== undefined && query.to !== undefined ? [query.from, query.to] : ['all']
        const fileName = `${[params.id, 'events', ...range].map(fileNamePart).join('_')}.${format}`
        const headers = attachment(fileName, format === 'csv' ? CSV_CONTENT_TYPE : NDJSON_CONTENT_TYPE)
        // The rows stream under a 200, so what retention dropped from the range is said beside them.
        return new Response(body, { headers: droppedBefore ? { ...headers, [DROPPED_HEADER]: droppedBefore } : headers })
      },
      {
        params: SiteParams,
        query: ExportQuery,
        detail: {
          summary: "A site's raw events, streamed in time order with every stored column (admin), to take the data elsewhere",
          description:
            "from and to (inclusive dates of the site's timezone, given together) limit it to a range; without them, every stored event. " +
            'csv: RFC 4180 with a header row, text cells starting with =, +, -, @, tab or CR prefixed with a quote; ndjson: one JSON object per line, values as stored, props as an object. ' +
            'Streamed from a database cursor, so the API holds a batch at a time however many events there are. ' +
            'When RAW_RETENTION_DAYS has dropped raw events the range covers, the Raw-Events-Dropped-Before header gives the first instant kept: the months before it are gone.',
          tags: ['sites'],
          responses: {
            200: download('The events: text/csv or application/x-ndjson, as a download'),
            400: refusal('A parameter the export refused, with the reason'),
            401: refusal('Not signed in as the admin'),
          },
        },
      },
    ),
  )
}
