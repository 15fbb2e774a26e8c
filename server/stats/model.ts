import { t } from 'elysia'
import { CALENDAR_DATE } from '../formats'

export const StatsQuery = t.Object({
  site_id: t.String({ minLength: 1, error: 'site_id query parameter is required' }),
  date: t.Optional(
    t.String({ format: CALENDAR_DATE, error: 'date must be a calendar date in YYYY-MM-DD format', examples: ['2025-11-14'] }),
  ),
})

export const PathViews = t.Object({ path: t.String(), views: t.Integer() })

export const DailyStats = t.Object({
  site_id: t.String(),
  date: t.String({ format: CALENDAR_DATE }),
  total_views: t.Integer(),
  unique_users: t.Integer(),
  top_paths: t.Array(PathViews),
})
export type DailyStats = typeof DailyStats.static
