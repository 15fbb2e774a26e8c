import { sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { minuteUsers, rollupMinutes } from '../../drizzle/schema'
import type { RealtimeNumbers } from './model'

/** Events and users of the last 5 minutes (this one included) and events per minute for the last 30, by event time. */
export async function getRealtimeStats(db: Db, siteId: string, now: Date = new Date()): Promise<RealtimeNumbers> {
  const at = now.toISOString()
  const [perMinute, [recent]] = await Promise.all([
    db.execute<{ minute: string; events: number }>(sql`
      select to_json(m) #>> '{}' as minute, coalesce(r.events, 0)::int as events
        from generate_series(date_trunc('minute', ${at}::timestamptz) - interval '29 minutes',
                             date_trunc('minute', ${at}::timestamptz), interval '1 minute') m
        left join ${rollupMinutes} r on r.site_id = ${siteId} and r.minute = m
       order by m`),
    db.execute<{ events: number; users: number }>(sql`
      select (select coalesce(sum(events), 0)::int from ${rollupMinutes}
               where site_id = ${siteId} and minute >= date_trunc('minute', ${at}::timestamptz) - interval '4 minutes'
                 and minute <= ${at}::timestamptz) as events,
             (select count(distinct user_id)::int from ${minuteUsers}
               where site_id = ${siteId} and minute >= date_trunc('minute', ${at}::timestamptz) - interval '4 minutes'
                 and minute <= ${at}::timestamptz) as users`),
  ])
  return {
    now: at,
    last_5_minutes: { events: recent?.events ?? 0, unique_users: recent?.users ?? 0 },
    per_minute: perMinute.map((row) => ({ minute: new Date(row.minute).toISOString(), events: row.events })),
  }
}
