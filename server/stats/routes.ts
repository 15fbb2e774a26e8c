import { Elysia } from 'elysia'
import type { Db } from '../../drizzle/client'
import { ErrorResponse } from '../errors'
import { DailyStats, StatsQuery } from './model'
import { getDailyStats, todayUtc } from './queries'

export function statsRoutes(deps: { db: Db }) {
  return new Elysia({ name: 'stats', prefix: '/stats' }).get(
    '',
    ({ query }) => getDailyStats(deps.db, query.site_id, query.date ?? todayUtc()),
    {
      query: StatsQuery,
      response: { 200: DailyStats, 400: ErrorResponse },
      detail: { summary: 'Views, unique users and top paths of one site on one UTC day', tags: ['stats'] },
    },
  )
}
