import { sql, type SQL } from 'drizzle-orm'
import { statementOf, type Db } from '../../drizzle/client'
import { eventRetention, events } from '../../drizzle/schema'
import type { ExportFormat } from './model'
import type { OnRows } from './stream'

/** Rows per cursor batch: about 300 KB of CSV, so the API holds a few hundred KB per export. */
const BATCH_ROWS = 1_000

/**
 * An instant as ISO 8601 in UTC, to the millisecond as the rest of the API writes them, or to the
 * microsecond Postgres keeps when the event was sent with more digits than milliseconds.
 */
const isoUtc = (column: SQL) =>
  sql`to_char(${column} at time zone 'UTC', case when extract(microseconds from ${column})::bigint % 1000 = 0
        then 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"' else 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' end)`

/**
 * Every stored column of an event, in this order; the names are
 * the columns' own. `received_at` is when the API took the event, `created_at` when the worker
 * wrote it. Props are JSON (a JSON object in NDJSON, its text in CSV).
 */
const COLUMNS: [name: string, value: SQL][] = [
  ['site_id', sql`e.site_id`],
  ['event_id', sql`e.event_id`],
  ['timestamp', isoUtc(sql`e.timestamp`)],
  ['event_type', sql`e.event_type`],
  ['path', sql`e.path`],
  ['user_id', sql`e.user_id`],
  ['referrer', sql`e.referrer`],
  ['source', sql`e.source`],
  ['channel', sql`e.channel`],
  ['utm_source', sql`e.utm_source`],
  ['utm_medium', sql`e.utm_medium`],
  ['utm_campaign', sql`e.utm_campaign`],
  ['utm_content', sql`e.utm_content`],
  ['utm_term', sql`e.utm_term`],
  ['browser', sql`e.browser`],
  ['os', sql`e.os`],
  ['device', sql`e.device`],
  ['country', sql`e.country`],
  ['props', sql`e.props`],
  ['received_at', isoUtc(sql`e.received_at`)],
  ['created_at', isoUtc(sql`e.created_at`)],
]
export const EXPORT_COLUMNS = COLUMNS.map(([name]) => name)

/** Instants an export covers: [start, end), or everything when null. */
export type ExportWindow = { start: SQL; end: SQL } | null

/** A batch row: CSV's columns as text (props as its JSON text, null where unset), or NDJSON's one line. */
export type ExportRow = (string | null)[]

function statement(siteId: string, window: ExportWindow, format: ExportFormat): SQL {
  const select =
    format === 'csv'
      ? sql`select ${sql.join(
          COLUMNS.map(([name, value]) => (name === 'props' ? sql`${value}::text` : value)),
          sql`, `,
        )} from ${events} e`
      : // Postgres writes each line: its JSON escaping, and props as the object it is.
        sql`select row_to_json(x)::text from ${events} e cross join lateral (select ${sql.join(
          COLUMNS.map(([name, value]) => sql`${value} as ${sql.identifier(name)}`),
          sql`, `,
        )}) x`
  const inWindow = window ? sql`and e.timestamp >= ${window.start} and e.timestamp < ${window.end}` : sql``
  // In time order, equal times by event id in byte order (as visits order them); the
  // (site_id, timestamp) index gives the order, so rows flow from the first one without a sort.
  return sql`${select} where e.site_id = ${siteId} ${inWindow} order by e.timestamp, e.event_id collate "C"`
}

/** When retention has dropped raw events that `window` covers: the first instant kept (ISO 8601), else null. */
export async function droppedWithin(db: Db, window: ExportWindow): Promise<string | null> {
  const [row] = await db.execute<{ dropped_before: string }>(sql`
    select to_char(dropped_before at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as dropped_before from ${eventRetention}
     where ${window ? window.start : sql`'-infinity'::timestamptz`} < dropped_before`)
  return row?.dropped_before ?? null
}

/** The site's events in `window`, in time order, handed to `onRows` batch by batch from a cursor. */
export async function exportEvents(db: Db, siteId: string, window: ExportWindow, format: ExportFormat, onRows: OnRows<ExportRow>): Promise<void> {
  const { text, params } = statementOf(statement(siteId, window, format))
  await db.$client.begin(async (tx) => {
    // An export may take minutes, and a cursor's statement runs until its last batch is read.
    await tx`set local statement_timeout = 0`
    // A site's events lie scattered among other sites' in the table, and for a big share of it the
    // planner would read them all and sort them (spilling to disk, nothing sent until done) rather
    // than follow the index; a portal is planned for all its rows, not for the first ones.
    await tx`set local enable_sort = off`
    await tx.unsafe(text, params as never[]).values().cursor(BATCH_ROWS, async (rows) => {
      if (!(await onRows(rows as ExportRow[]))) return db.$client.CLOSE
    })
  })
}
