import { Elysia } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { REBUILD_JOB, rebuildJobOptions, type IngestQueue } from '../../lib/queue'
import { ErrorResponse, RETRY_AFTER_SECONDS, ServiceUnavailableError, UnavailableResponse } from '../errors'
import { readJsonBody } from '../http'
import type { ZoneCheck } from '../stats/question'
import { RebuildParams, RebuildStatus, REBUILD_STATES, SiteDataDeleted, SiteDeleteQuery, SiteList, SiteParams, SiteUpdate, SiteUpdated, type RebuildState } from './model'
import { deleteSiteData, getSites, setSiteTimezone, timezoneChangeRefusal } from './queries'

/** The list reads `reads` (the replica, when set); changes, and a rebuild's state right after one, use the primary `db`. */
export function sitesRoutes(deps: { db: Db; reads: Db; queue: IngestQueue; checkZone: ZoneCheck; access: Access }) {
  return new Elysia({ name: 'sites', prefix: '/sites' })
    .use(deps.access.plugin)
    .guard({ access: 'reader' }, (readers) =>
      readers.get('', async ({ request, server }) => ({ sites: await getSites(deps.reads, await deps.access.sitesOf(request, server)) }), {
        response: { 200: SiteList },
        detail: { summary: 'Known sites (a viewer’s own) with timezone, first and last event, and totals', tags: ['sites'] },
      }),
    )
    .guard({ access: 'admin' }, (admins) =>
      admins
        .put(
          '/:id',
          async ({ params, body, status }) => {
            await deps.checkZone(body.timezone)
            const refusal = await timezoneChangeRefusal(deps.db, params.id)
            if (refusal) return status(409, { error: refusal })
            await setSiteTimezone(deps.db, params.id, body.timezone)
            // The rebuild runs in the worker; until it finishes, answers stay in the previous zone.
            const job = await deps.queue.add(REBUILD_JOB, { siteId: params.id }, rebuildJobOptions).catch((error) => {
              throw new ServiceUnavailableError('Event queue is unavailable; the timezone is saved, retry to queue its rebuild', RETRY_AFTER_SECONDS, {
                cause: error,
              })
            })
            return status(202, { site_id: params.id, timezone: body.timezone, rebuild: 'queued' as const, jobId: job.id! })
          },
          {
            params: SiteParams,
            parse: deps.access.readBodyAfter('admin', (request) => readJsonBody(request, 4_096)),
            body: SiteUpdate,
            response: { 202: SiteUpdated, 400: ErrorResponse, 409: ErrorResponse, 503: UnavailableResponse },
            detail: { summary: "Set a site's IANA timezone (admin); its rollups are rebuilt in the background", tags: ['sites'] },
          },
        )
        .get(
          '/:id/rebuild/:job_id',
          async ({ params, status }) => {
            const job = await deps.queue.getJob(params.job_id)
            if (!job || job.name !== REBUILD_JOB || !('siteId' in job.data) || job.data.siteId !== params.id) return status(404, { error: 'this site has no such rebuild' })
            const state = await job.getState()
            const [site] = await getSites(deps.db, new Set([params.id]))
            return {
              site_id: params.id,
              job_id: params.job_id,
              state: REBUILD_STATES.has(state) ? (state as RebuildState) : 'waiting',
              progress: typeof job.progress === 'number' ? job.progress : 0,
              timezone: site?.timezone ?? null,
              rollup_timezone: site?.rollup_timezone ?? null,
              ...(job.failedReason && { error: job.failedReason }),
            }
          },
          {
            params: RebuildParams,
            response: { 200: RebuildStatus, 400: ErrorResponse, 404: ErrorResponse },
            detail: {
              summary: "A rebuild's state and progress (admin): waiting, active (percent of its statements done), completed once it has committed, or failed",
              tags: ['sites'],
            },
          },
        )
        .delete(
          '/:id',
          async ({ params, query, status }) => {
            if (query.confirm !== params.id) {
              const id = encodeURIComponent(params.id)
              return status(400, { error: `confirm must be the site id: send DELETE /sites/${id}?confirm=${id} to delete this site's data` })
            }
            return { site_id: params.id, deleted: await deleteSiteData(deps.db, params.id) }
          },
          {
            params: SiteParams,
            query: SiteDeleteQuery,
            response: { 200: SiteDataDeleted, 400: ErrorResponse },
            detail: {
              summary: "Delete a site's data (admin): its events, visits, visit figures, rollups and ingestion ledger, with the counts removed",
              description:
                "confirm must repeat the site id. The site's timezone, goals and funnels are kept. Runs in one transaction under the lock the worker and rebuilds take for the site. " +
                'Events of the site still queued are written afterwards.',
              tags: ['sites'],
            },
          },
        ),
    )
}
