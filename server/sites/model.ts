import { t } from 'elysia'
import { TEXT } from '../formats'

export const Site = t.Object({
  site_id: t.String(),
  timezone: t.String({ description: 'IANA timezone the site reports in' }),
  rollup_timezone: t.String({ description: 'Timezone the rollups are bucketed in; differs from timezone only while a rebuild runs' }),
  first_event_at: t.Union([t.String(), t.Null()]),
  last_event_at: t.Union([t.String(), t.Null()]),
  total_events: t.Integer(),
  total_views: t.Integer(),
})

export const SiteList = t.Object({ sites: t.Array(Site) })

export const SiteParams = t.Object({
  id: t.String({ minLength: 1, maxLength: 128, format: TEXT, error: 'the site id must be 1 to 128 characters without NUL characters or unpaired surrogates' }),
})

export const SiteUpdate = t.Object(
  { timezone: t.String({ minLength: 1, maxLength: 64, format: TEXT, error: 'timezone must be an IANA timezone name such as Europe/Paris' }) },
  { additionalProperties: false },
)

export const SiteUpdated = t.Object({
  site_id: t.String(),
  timezone: t.String(),
  rebuild: t.Literal('queued'),
  jobId: t.String(),
})

export const RebuildParams = t.Composite([
  SiteParams,
  t.Object({ job_id: t.String({ pattern: '^[0-9]{1,19}$', error: 'job_id must be the jobId PUT /sites/:id answered' }) }),
])

export type RebuildState = 'waiting' | 'active' | 'completed' | 'failed'
export const REBUILD_STATES = new Set<string>(['waiting', 'active', 'completed', 'failed'])
export const RebuildStatus = t.Object({
  site_id: t.String(),
  job_id: t.String(),
  state: t.Union([t.Literal('waiting'), t.Literal('active'), t.Literal('completed'), t.Literal('failed')]),
  progress: t.Integer({ description: 'Percent of the rebuild done; it takes effect when it completes' }),
  timezone: t.Union([t.String(), t.Null()]),
  rollup_timezone: t.Union([t.String(), t.Null()]),
  error: t.Optional(t.String()),
})

export const SiteDeleteQuery = t.Object({
  confirm: t.Optional(
    t.String({
      maxLength: 128,
      format: TEXT,
      error: 'confirm must be the site id, as in DELETE /sites/<id>?confirm=<id>',
      description: "The site's id again: nothing is deleted without it",
    }),
  ),
})

export const SiteDataDeleted = t.Object({
  site_id: t.String(),
  deleted: t.Object({
    events: t.Integer(),
    visits: t.Integer(),
    visit_figure_rows: t.Integer({ description: 'Rows of visit figures per day and value, and of visitors per month and value' }),
    rollup_rows: t.Integer({ description: 'Rows of every rollup: hours, days, paths, event types, page visitors, user bitmaps, realtime minutes' }),
    ledger_rows: t.Integer({ description: "The site's ingestion ledger row and its refusals per reason and per hour" }),
  }),
})
