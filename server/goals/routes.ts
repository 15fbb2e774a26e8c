import { Elysia, t } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { ErrorResponse } from '../errors'
import { readJsonBody } from '../http'
import { SiteParams } from '../sites/model'
import { Funnel, FunnelBody, FunnelIdParams, FunnelList, Goal, GoalBody, GoalIdParams, GoalList, goalProblem } from './model'
import { addFunnel, addGoal, deleteFunnel, deleteGoal, getFunnels, getGoals } from './queries'

/** A site's goals: listed to whoever reads the site, changed by admins; /stats/breakdown?property=goal reports them. */
export function goalsRoutes(deps: { db: Db; reads: Db; access: Access }) {
  return new Elysia({ name: 'goals', prefix: '/sites/:id/goals' })
    .use(deps.access.plugin)
    .guard({ access: 'stats' }, (readers) =>
      readers.get('', async ({ params }) => ({ goals: await getGoals(deps.reads, params.id) }), {
        params: SiteParams,
        response: { 200: GoalList, 400: ErrorResponse, 403: ErrorResponse },
        detail: { summary: "A site's goals (whoever reads the site's stats)", tags: ['goals'] },
      }),
    )
    .guard({ access: 'admin' }, (admins) =>
      admins.post(
        '',
        async ({ params, body, status }) => {
          const problem = goalProblem(body)
          if (problem) return status(400, { error: problem })
          const added = await addGoal(deps.db, params.id, body)
          if ('conflict' in added) return status(409, { error: added.conflict })
          return status(201, added)
        },
        {
          params: SiteParams,
          parse: deps.access.readBodyAfter('admin', (request) => readJsonBody(request, 4_096)),
          body: GoalBody,
          response: { 201: Goal, 400: ErrorResponse, 409: ErrorResponse },
          detail: {
            summary: 'Add a goal (admin): an event type, or a page pattern; it counts every stored event, past ones too',
            tags: ['goals'],
          },
        },
      )
      .delete(
        '/:goal_id',
        async ({ params, status }) => {
          const deleted = await deleteGoal(deps.db, params.id, params.goal_id)
          if (deleted === 'missing') return status(404, { error: 'this site has no such goal' })
          if (deleted !== 'deleted') return status(409, { error: deleted.conflict })
          return status(204, undefined)
        },
        {
          params: GoalIdParams,
          response: { 204: t.Undefined(), 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
          detail: { summary: 'Delete a goal (admin); refused while a funnel has it as a step', tags: ['goals'] },
        },
      ),
  )
}

/** A site's funnels: listed to whoever reads the site, changed by admins; /stats/funnel reports them. */
export function funnelsRoutes(deps: { db: Db; reads: Db; access: Access }) {
  return new Elysia({ name: 'funnels', prefix: '/sites/:id/funnels' })
    .use(deps.access.plugin)
    .guard({ access: 'stats' }, (readers) =>
      readers.get('', async ({ params }) => ({ funnels: await getFunnels(deps.reads, params.id) }), {
        params: SiteParams,
        response: { 200: FunnelList, 400: ErrorResponse, 403: ErrorResponse },
        detail: { summary: "A site's funnels with their steps' goals (whoever reads the site's stats)", tags: ['goals'] },
      }),
    )
    .guard({ access: 'admin' }, (admins) =>
      admins.post(
        '',
        async ({ params, body, status }) => {
          const added = await addFunnel(deps.db, params.id, body)
          if ('invalid' in added) return status(400, { error: added.invalid })
          if ('conflict' in added) return status(409, { error: added.conflict })
          return status(201, added)
        },
        {
          params: SiteParams,
          parse: deps.access.readBodyAfter('admin', (request) => readJsonBody(request, 4_096)),
          body: FunnelBody,
          response: { 201: Funnel, 400: ErrorResponse, 409: ErrorResponse },
          detail: { summary: "Add a funnel (admin): 2 to 8 of the site's goals, in order", tags: ['goals'] },
        },
      )
      .delete(
        '/:funnel_id',
        async ({ params, status }) => {
          if (!(await deleteFunnel(deps.db, params.id, params.funnel_id))) return status(404, { error: 'this site has no such funnel' })
          return status(204, undefined)
        },
        {
          params: FunnelIdParams,
          response: { 204: t.Undefined(), 400: ErrorResponse, 404: ErrorResponse },
          detail: { summary: 'Delete a funnel (admin)', tags: ['goals'] },
        },
      ),
  )
}
