import { t } from 'elysia'
import { CALENDAR_DATE } from '../formats'

const day = (name: string) =>
  t.Optional(
    t.String({
      format: CALENDAR_DATE,
      error: `${name} must be a calendar date in YYYY-MM-DD format`,
      description: `Inclusive date in the site's timezone; with ${name === 'from' ? 'to' : 'from'}. Both absent: every stored event`,
      examples: ['2025-11-14'],
    }),
  )

export const ExportQuery = t.Object({
  from: day('from'),
  to: day('to'),
  format: t.Optional(
    t.Union([t.Literal('csv'), t.Literal('ndjson')], {
      error: 'format must be csv or ndjson',
      description: 'csv (default: RFC 4180, a header row, formula-starting cells guarded with a leading quote) or ndjson (one JSON object per line, values exactly as stored)',
    }),
  ),
})
export type ExportFormat = NonNullable<typeof ExportQuery.static.format>
