import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { goals } from '../../drizzle/schema'
import type { Goal, GoalBody } from './model'

const goalColumns = sql`goal_id::text, name, event_type, page, to_json(created_at) #>> '{}' as created_at`

/** A site's goals, oldest first. */
export async function getGoals(db: Db, siteId: string): Promise<Goal[]> {
  const rows = await db.execute<Goal>(sql`select ${goalColumns} from ${goals} where site_id = ${siteId} order by created_at, goal_id`)
  return rows.map(isoCreatedAt)
}

const isoCreatedAt = (goal: Goal): Goal => ({ ...goal, created_at: new Date(goal.created_at).toISOString() })

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

/** Whether the goal existed. */
export async function deleteGoal(db: Db, siteId: string, goalId: string): Promise<boolean> {
  const rows = await db.execute(sql`delete from ${goals} where site_id = ${siteId} and goal_id = ${goalId.toLowerCase()}::uuid returning goal_id`)
  return rows.length > 0
}

/**
 * Whether event `e` (an alias of events) converts for goal `g` (an alias of goals): its event
 * type, or a page view whose path matches the pattern, `*` standing for any characters.
 */
export function goalMatch(e: string, g: string): SQL {
  const [event, goal] = [sql.raw(e), sql.raw(g)]
  return sql`(${event}.event_type = ${goal}.event_type
    or (${event}.event_type = 'page_view' and ${event}.path like replace(replace(replace(replace(${goal}.page, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%')))`
}
