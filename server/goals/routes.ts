import { Elysia, t } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { ErrorResponse } from '../errors'
import { readJsonBody } from '../http'
import { Goal, GoalBody, GoalIdParams, GoalList, GoalParams, goalProblem } from './model'
import { addGoal, deleteGoal, getGoals } from './queries'

/** A site's goals (admin only); /stats/breakdown?property=goal reports them. */
export function goalsRoutes(deps: { db: Db; access: Access }) {
  return new Elysia({ name: 'goals', prefix: '/sites/:id/goals' }).use(deps.access.plugin).guard({ access: 'admin' }, (admins) =>
    admins
      .get('', async ({ params }) => ({ goals: await getGoals(deps.db, params.id) }), {
        params: GoalParams,
        response: { 200: GoalList, 400: ErrorResponse },
        detail: { summary: "A site's goals (admin)", tags: ['goals'] },
      })
      .post(
        '',
        async ({ params, body, status }) => {
          const problem = goalProblem(body)
          if (problem) return status(400, { error: problem })
          const added = await addGoal(deps.db, params.id, body)
          if ('conflict' in added) return status(409, { error: added.conflict })
          return status(201, added)
        },
        {
          params: GoalParams,
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
          if (!(await deleteGoal(deps.db, params.id, params.goal_id))) return status(404, { error: 'this site has no such goal' })
          return status(204, undefined)
        },
        {
          params: GoalIdParams,
          response: { 204: t.Undefined(), 400: ErrorResponse, 404: ErrorResponse },
          detail: { summary: 'Delete a goal (admin)', tags: ['goals'] },
        },
      ),
  )
}
