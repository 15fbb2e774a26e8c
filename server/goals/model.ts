import { t } from 'elysia'
import { PAGE_PATH, TEXT, UUID_PATTERN } from '../formats'
import { SiteParams } from '../sites/model'

const text = (field: string, maxLength: number, description?: string) =>
  t.String({
    minLength: 1,
    maxLength,
    format: TEXT,
    error: `${field} must be 1 to ${maxLength} characters without NUL characters or unpaired surrogates`,
    description,
  })

export const GoalIdParams = t.Composite([
  SiteParams,
  t.Object({
    goal_id: t.String({
      pattern: UUID_PATTERN,
      error: 'the goal id must be a UUID, as GET /sites/:id/goals lists them',
    }),
  }),
])

export const GoalBody = t.Object(
  {
    event_type: t.Optional(text('event_type', 64, 'Counts events of this type')),
    page: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 2048,
        format: PAGE_PATH,
        error: 'page must be a path pattern of at most 2048 bytes, such as /thanks or /blog/*',
        description: 'Counts page views of this path (without its query string); * matches any characters',
      }),
    ),
    name: t.Optional(text('name', 120, 'Default: the event type or the page pattern')),
  },
  { additionalProperties: false },
)
export type GoalBody = typeof GoalBody.static

export const Goal = t.Object({
  goal_id: t.String(),
  name: t.String(),
  event_type: t.Union([t.String(), t.Null()]),
  page: t.Union([t.String(), t.Null()]),
  created_at: t.String(),
})
export type Goal = typeof Goal.static

export const GoalList = t.Object({ goals: t.Array(Goal) })

/** Why a goal is refused before it reaches the database, if it is. */
export function goalProblem(body: GoalBody): string | undefined {
  if ((body.event_type === undefined) === (body.page === undefined)) return 'a goal needs either event_type or page, not both'
  if (body.page !== undefined) {
    if (!body.page.startsWith('/')) return 'page must start with /, such as /thanks or /blog/*'
    // Stored paths have neither (reports group pages without them), so such a goal could never match.
    if (/[?#]/.test(body.page)) return 'page must be a path without a query string or fragment'
  }
  return undefined
}

export const FunnelIdParams = t.Composite([
  SiteParams,
  t.Object({ funnel_id: t.String({ pattern: UUID_PATTERN, error: 'the funnel id must be a UUID, as GET /sites/:id/funnels lists them' }) }),
])

export const FunnelBody = t.Object(
  {
    name: text('name', 120),
    steps: t.Array(t.String({ pattern: UUID_PATTERN, error: 'each step must be a goal id (a UUID, as GET /sites/:id/goals lists them)' }), {
      minItems: 2,
      maxItems: 8,
      error: 'steps must be an array of 2 to 8 goal ids',
      description: "The site's goal ids, in order; a goal may appear more than once",
    }),
  },
  { additionalProperties: false },
)
export type FunnelBody = typeof FunnelBody.static

export const Funnel = t.Object({
  funnel_id: t.String(),
  name: t.String(),
  steps: t.Array(t.Object({ goal_id: t.String(), name: t.String() })),
  created_at: t.String(),
})
export type Funnel = typeof Funnel.static

export const FunnelList = t.Object({ funnels: t.Array(Funnel) })
