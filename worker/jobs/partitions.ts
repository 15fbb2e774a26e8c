/**
 * The monthly partitions of `events` (migration 0018): created ahead, and dropped whole once past
 * RAW_RETENTION_DAYS. Both run from the prune job, every minute, and are idempotent.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { eventRetention } from '../../drizzle/schema'
import { retentionBoundary } from '../../lib/retention'

/**
 * Months after the current one that always have a partition: the API takes events up to 24 hours
 * ahead, and the job may not run for weeks (no worker) without events falling into the default partition.
 */
export const MONTHS_AHEAD = 2

/** A partition's name and the UTC month it holds. */
const PARTITION = /^events_p(\d{4})(\d{2})$/

/**
 * Statements that wait for a lock longer than this give up, and the next run tries again: dropping
 * or attaching a partition needs locks that an export's long-running read holds, and the
 * inserts queued behind a waiting DROP would wait with it.
 */
const LOCK_TIMEOUT = '5s'

/** The first days of the UTC months from `now`'s to MONTHS_AHEAD after. */
export function monthsAhead(now: Date): string[] {
  return Array.from({ length: MONTHS_AHEAD + 1 }, (_, ahead) =>
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1)).toISOString().slice(0, 10),
  )
}

/** Creates the partitions of this month and the next MONTHS_AHEAD that do not exist yet; returns the months created. */
export async function ensureEventPartitions(db: Db, now: Date = new Date()): Promise<string[]> {
  const created: string[] = []
  for (const month of monthsAhead(now)) {
    const made = await db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`))
      const [row] = await tx.execute<{ made: boolean }>(sql`select ensure_event_partition(${month}::date) as made`)
      return row!.made
    })
    if (made) created.push(month)
  }
  return created
}

export interface RetentionResult {
  /** Raw events before this instant are gone. */
  droppedBefore: Date
  /** The months whose partitions were dropped now (YYYY-MM), and the rows deleted from the default partition. */
  months: string[]
  defaultRows: number
}

/**
 * Drops the partitions of the UTC months that end before `days` ago, deletes the default
 * partition's events before that month, and records the boundary (never moving it back: a longer
 * retention set later cannot bring events back). Rollups, visits and event_ids are untouched.
 */
export async function dropExpiredEvents(db: Db, days: number, now: Date = new Date()): Promise<RetentionResult> {
  const boundary = retentionBoundary(now, days)
  return db.transaction(async (tx) => {
    await tx.execute(sql.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`))
    const partitions = await tx.execute<{ name: string }>(sql`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'events'::regclass order by c.relname`)
    const months: string[] = []
    for (const { name } of partitions) {
      const match = PARTITION.exec(name)
      if (!match) continue
      const end = Date.UTC(Number(match[1]), Number(match[2]), 1)
      if (end > boundary.getTime()) continue
      await tx.execute(sql`drop table ${sql.identifier(name)}`)
      months.push(`${match[1]}-${match[2]}`)
    }
    const deleted = await tx.execute(sql`delete from events_default where timestamp < ${boundary.toISOString()}::timestamptz`)
    const [row] = await tx.execute<{ dropped_before: string }>(sql`
      insert into ${eventRetention} (singleton, dropped_before) values (true, ${boundary.toISOString()}::timestamptz)
      on conflict (singleton) do update set dropped_before = greatest(${eventRetention.droppedBefore}, excluded.dropped_before),
        updated_at = case when excluded.dropped_before > ${eventRetention.droppedBefore} then now() else ${eventRetention.updatedAt} end
      returning to_json(dropped_before) #>> '{}' as dropped_before`)
    return { droppedBefore: new Date(row!.dropped_before), months, defaultRows: deleted.count }
  })
}
