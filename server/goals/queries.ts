import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { funnels, goals } from '../../drizzle/schema'
import type { Funnel, FunnelBody, Goal, GoalBody } from './model'

const goalColumns = sql`goal_id::text, name, event_type, page, to_json(created_at) #>> '{}' as created_at`

/** A row's created_at, read as JSON text, in the API's ISO 8601 UTC form. */
const isoCreatedAt = <T extends { created_at: string }>(row: T): T => ({ ...row, created_at: new Date(row.created_at).toISOString() })

/** A site's goals, oldest first. */
export async function getGoals(db: Db, siteId: string): Promise<Goal[]> {
  const rows = await db.execute<Goal>(sql`select ${goalColumns} from ${goals} where site_id = ${siteId} order by created_at, goal_id`)
  return rows.map(isoCreatedAt)
}

/** The new goal, or why it clashes with one the site has (same name, event type or page). */
export async function addGoal(db: Db, siteId: string, body: GoalBody): Promise<Goal | { conflict: string }> {
  const name = body.name ?? body.event_type ?? body.page!
  const [row] = await db.execute<Goal>(sql`
    insert into ${goals} (site_id, name, event_type, page) values (${siteId}, ${name}, ${body.event_type ?? null}, ${body.page ?? null})
    on conflict do nothing
    returning ${goalColumns}`)
  if (row) return isoCreatedAt(row)
  const [clash] = await db.execute<Goal>(sql`
    select ${goalColumns} from ${goals}
     where site_id = ${siteId} and (name = ${name} or event_type = ${body.event_type ?? null} or page = ${body.page ?? null})
     limit 1`)
  if (!clash) return addGoal(db, siteId, body) // the clashing goal was deleted meanwhile
  if (clash.name === name) return { conflict: `this site already has a goal named ${JSON.stringify(name)}` }
  return {
    conflict: `goal ${JSON.stringify(clash.name)} already counts ${clash.event_type !== null ? `event type ${clash.event_type}` : `page ${clash.page}`}`,
  }
}

/** Whether the goal was deleted, was not there, or is a step of a funnel (which is named). */
export async function deleteGoal(db: Db, siteId: string, goalId: string): Promise<'deleted' | 'missing' | { conflict: string }> {
  const id = goalId.toLowerCase()
  const [row] = await db.execute<{ funnel: string | null; deleted: number }>(sql`
    with blocking as (select name from ${funnels} where site_id = ${siteId} and ${id}::uuid = any(steps) limit 1),
    gone as (delete from ${goals} where site_id = ${siteId} and goal_id = ${id}::uuid and not exists (select 1 from blocking) returning 1)
    select (select name from blocking) as funnel, (select count(*) from gone)::int as deleted`)
  if (row!.funnel !== null) return { conflict: `the goal is a step of funnel ${JSON.stringify(row!.funnel)}; delete that funnel first` }
  return row!.deleted > 0 ? 'deleted' : 'missing'
}

/**
 * A site's goals as a goalMatch reads them: each page pattern also as a LIKE pattern (`*` any
 * characters, `%`, `_` and `\` literal), worked out once per goal rather than once per event.
 */
export const matchableGoals = (siteId: string) =>
  sql`select goal_id, name, event_type, page,
             replace(replace(replace(replace(page, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%') as pattern
        from ${goals} where site_id = ${siteId}`

/** Whether event `e` (an alias of events) converts for goal `g` (a row of matchableGoals): its event type, or a page view whose path matches. */
export function goalMatch(e: string, g: string): SQL {
  const [event, goal] = [sql.raw(e), sql.raw(g)]
  return sql`(${event}.event_type = ${goal}.event_type or (${event}.event_type = 'page_view' and ${event}.path like ${goal}.pattern))`
}

/** A uuid[] parameter: Drizzle would send a JS array as a row of parameters. Ids are checked UUIDs. */
export const uuidArray = (ids: string[]) => sql`${`{${ids.join(',')}}`}::uuid[]`

const funnelColumns = sql`f.funnel_id::text, f.name, to_json(f.created_at) #>> '{}' as created_at,
  (select json_agg(json_build_object('goal_id', s.goal_id::text, 'name', coalesce(g.name, '(deleted goal)')) order by s.n)
     from unnest(f.steps) with ordinality as s(goal_id, n) left join ${goals} g on g.site_id = f.site_id and g.goal_id = s.goal_id) as steps`

/** A site's funnels, oldest first, each step with its goal's name. */
export async function getFunnels(db: Db, siteId: string): Promise<Funnel[]> {
  const rows = await db.execute<Funnel>(sql`select ${funnelColumns} from ${funnels} f where f.site_id = ${siteId} order by f.created_at, f.funnel_id`)
  return rows.map(isoCreatedAt)
}

/**
 * The new funnel, or why it is refused: a step that is no goal of the site (400) or a name in use
 * (409). One statement each here and in deleteGoal: the steps' goals are read FOR KEY SHARE, so a
 * goal being deleted meanwhile makes this one refuse; only a funnel committed while a deletion of
 * one of its goals waits could keep a step whose goal is gone, which then counts nobody.
 */
export async function addFunnel(db: Db, siteId: string, body: FunnelBody): Promise<Funnel | { invalid: string } | { conflict: string }> {
  const steps = body.steps.map((step) => step.toLowerCase())
  const [row] = await db.execute<{ known: string[]; funnel_id: string | null }>(sql`
    with known as (select goal_id from ${goals} where site_id = ${siteId} and goal_id = any(${uuidArray(steps)}) for key share),
    added as (insert into ${funnels} (site_id, name, steps)
              select ${siteId}, ${body.name}, ${uuidArray(steps)} where (select count(*) from known) = ${new Set(steps).size}
              on conflict do nothing returning funnel_id)
    select array(select goal_id::text from known) as known, (select funnel_id::text from added) as funnel_id`)
  const known = new Set(row!.known)
  const missing = steps.findIndex((step) => !known.has(step))
  if (missing !== -1) return { invalid: `steps[${missing}] is not a goal of this site` }
  if (row!.funnel_id === null) return { conflict: `this site already has a funnel named ${JSON.stringify(body.name)}` }
  const [funnel] = await db.execute<Funnel>(
    sql`select ${funnelColumns} from ${funnels} f where f.site_id = ${siteId} and f.funnel_id = ${row!.funnel_id}::uuid`,
  )
  return isoCreatedAt(funnel!)
}

/** Whether the funnel existed. */
export async function deleteFunnel(db: Db, siteId: string, funnelId: string): Promise<boolean> {
  const rows = await db.execute(sql`delete from ${funnels} where site_id = ${siteId} and funnel_id = ${funnelId.toLowerCase()}::uuid returning funnel_id`)
  return rows.length > 0
}

/** A funnel's name and its steps' goal ids and names, in order; null when the site has no such funnel. */
export async function getFunnelSteps(db: Db, siteId: string, funnelId: string): Promise<{ name: string; steps: string[]; stepNames: string[] } | null> {
  const [row] = await db.execute<{ name: string; steps: string[]; step_names: string[] }>(sql`
    select f.name, f.steps::text[] as steps,
           array(select coalesce(g.name, '(deleted goal)') from unnest(f.steps) with ordinality as s(goal_id, n)
                   left join ${goals} g on g.site_id = f.site_id and g.goal_id = s.goal_id order by s.n) as step_names
      from ${funnels} f where f.site_id = ${siteId} and f.funnel_id = ${funnelId.toLowerCase()}::uuid`)
  return row ? { name: row.name, steps: row.steps, stepNames: row.step_names } : null
}
