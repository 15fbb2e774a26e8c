import { Elysia } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { REBUILD_JOB, type IngestQueue } from '../../lib/queue'
import { ErrorResponse, RETRY_AFTER_SECONDS, ServiceUnavailableError, UnavailableResponse } from '../errors'
import { readJsonBody } from '../http'
import type { ZoneCheck } from '../stats/question'
import { SiteList, SiteParams, SiteUpdate, SiteUpdated } from './model'
import { getSites, setSiteTimezone } from './queries'

export function sitesRoutes(deps: { db: Db; queue: IngestQueue; checkZone: ZoneCheck; access: Access }) {
  return new Elysia({ name: 'sites', prefix: '/sites' })
    .use(deps.access.plugin)
    .guard({ access: 'reader' }, (readers) =>
      readers.get('', async ({ request, server }) => ({ sites: await getSites(deps.db, await deps.access.sitesOf(request, server)) }), {
        response: { 200: SiteList },
        detail: { summary: 'Known sites (a viewer’s own) with timezone, first and last event, and totals', tags: ['sites'] },
      }),
    )
    .guard({ access: 'admin' }, (admins) =>
      admins.put(
        '/:id',
        async ({ params, body, status }) => {
          await deps.checkZone(body.timezone)
          await setSiteTimezone(deps.db, params.id, body.timezone)
          // The rebuild runs in the worker; until it finishes, answers stay in the previous zone.
          const job = await deps.queue.add(REBUILD_JOB, { siteId: params.id }).catch((error) => {
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
          response: { 202: SiteUpdated, 400: ErrorResponse, 503: UnavailableResponse },
          detail: { summary: "Set a site's IANA timezone (admin); its rollups are rebuilt in the background", tags: ['sites'] },
        },
      ),
    )
}
