import { Elysia, t } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { ErrorResponse } from '../errors'
import { attachment, CSV_CONTENT_TYPE, csvTable, fileNamePart, type CsvValue } from '../csv'
import {
  Breakdown,
  breakdownColumns,
  BreakdownQuery,
  FunnelQuery,
  FunnelReport,
  GOAL_PROPERTY,
  PROP_KEYS_PROPERTY,
  PROPS_PREFIX,
  DailyStats,
  RangeStats,
  Realtime,
  RealtimeQuery,
  StatsQuery,
  Timeseries,
  TimeseriesBucket,
  TimeseriesQuery,
} from './model'
import { getRangeStats, TOP_PATHS_DEFAULT } from './summary'
import { getTimeseries } from './timeseries'
import { daysBetween, resolveQuestion, siteDaysOf, type ZoneCheck } from './question'
import { getRealtimeStats } from './realtime'
import { getBreakdown, getVisitMetrics } from './visits'
import { getFunnelReport, getGoalBreakdown, getPropBreakdown } from './conversions'
import { checkGoalFilters, checkRawEvents, getFilteredBreakdown, getFilteredStats, getFilteredTimeseries } from './filtered'
import { parseFilters } from './filters'
import type { BreakdownProperty } from '../../lib/visit-properties'

const BREAKDOWN_LIMIT_DEFAULT = 10

/** The rows of an answer as a CSV download named by its parts (site, what, range). */
function csvDownload(nameParts: string[], columns: string[], rows: readonly object[]): Response {
  const fileName = `${nameParts.map(fileNamePart).join('_')}.csv`
  return new Response(csvTable(columns, rows as Record<string, CsvValue>[]), { headers: attachment(fileName, CSV_CONTENT_TYPE) })
}
const TIMESERIES_COLUMNS = Object.keys(TimeseriesBucket.properties)
/** An answer object rather than nothing (a refusal reaches the hook as its JSON error, which has no rows). */
const isAnswer = (value: unknown): value is object => typeof value === 'object' && value !== null
const CSV_DESCRIPTION = ' With format=csv, the same rows as text/csv (RFC 4180, a header row of the JSON field names), as a download named by the site, the question and the range.'

/** Every question reads `reads`: the replica when STATS_DATABASE_URL is set, else the primary. */
export function statsRoutes(deps: { reads: Db; checkZone: ZoneCheck; access: Access }) {
  const { reads: db, checkZone } = deps
  /** The request's filters, checked (a goal they name must be one of the site's). */
  const filtersOf = async (query: { site_id: string; filters?: string }) => {
    const filters = parseFilters(query.filters)
    await checkGoalFilters(db, query.site_id, filters)
    return filters
  }
  return new Elysia({ name: 'stats', prefix: '/stats' })
    .use(deps.access.plugin)
    .guard({ access: 'stats' })
    .get(
      '',
      async ({ query }) => {
        const limit = query.limit ?? TOP_PATHS_DEFAULT
        const filters = await filtersOf(query)
        if (filters.length > 0) {
          const question = await resolveQuestion(db, checkZone, query)
          await checkRawEvents(db, question, 'filters')
          const numbers = await getFilteredStats(db, question, filters, limit)
          return { site_id: query.site_id, from: question.from, to: question.to, timezone: question.tz, ...numbers }
        }
        const question = siteDaysOf(query) ?? (await resolveQuestion(db, checkZone, query))
        // Requests with only the original parameters get exactly the original answer.
        const extended = query.from !== undefined || query.tz !== undefined || query.limit !== undefined
        if (!extended) {
          const { timezone: _, event_types: __, ...original } = await getRangeStats(db, question, limit)
          return { site_id: query.site_id, date: question.from, ...original }
        }
        const [{ timezone, ...stats }, visitFigures] = await Promise.all([getRangeStats(db, question, limit), getVisitMetrics(db, question)])
        return { site_id: query.site_id, from: question.from, to: question.to, timezone, ...stats, ...visitFigures }
      },
      {
        query: StatsQuery,
        response: { 200: t.Union([DailyStats, RangeStats]), 400: ErrorResponse },
        detail: {
          summary: 'Views, unique users, top paths and event types of one site for a day or a range of days',
          description:
            'With only site_id and date, the original answer for one day (UTC, or the site timezone). With from/to, tz, limit or filters, the extended answer.',
          tags: ['stats'],
        },
      },
    )
    .get(
      '/timeseries',
      async ({ query }) => {
        const interval = query.interval ?? (daysBetween(query.from, query.to) <= 2 ? 'hour' : 'day')
        const filters = await filtersOf(query)
        const question = await resolveQuestion(db, checkZone, query, interval)
        if (filters.length > 0) await checkRawEvents(db, question, 'filters')
        const buckets = filters.length > 0 ? await getFilteredTimeseries(db, question, interval, filters) : await getTimeseries(db, question, interval)
        return { site_id: query.site_id, from: question.from, to: question.to, interval, timezone: question.tz, buckets }
      },
      {
        query: TimeseriesQuery,
        response: { 200: Timeseries, 400: ErrorResponse },
        // The CSV is written from the JSON answer itself, once it has passed its schema.
        mapResponse: ({ query, responseValue: answer }) =>
          query.format === 'csv' && isAnswer(answer) && 'buckets' in answer
            ? csvDownload([answer.site_id, 'timeseries', answer.interval, answer.from, answer.to], TIMESERIES_COLUMNS, answer.buckets)
            : undefined,
        detail: {
          summary: 'Views and unique users per hour, day, week or month; every bucket, empty ones as zeros',
          description: `One row per bucket.${CSV_DESCRIPTION}`,
          tags: ['stats'],
        },
      },
    )
    .get(
      '/breakdown',
      async ({ query }) => {
        const filters = await filtersOf(query)
        const question = await resolveQuestion(db, checkZone, query)
        const paging = { limit: query.limit ?? BREAKDOWN_LIMIT_DEFAULT, page: query.page ?? 1 }
        const { property } = query
        const fromEvents = property === GOAL_PROPERTY ? 'goals' : property === PROP_KEYS_PROPERTY || property.startsWith(PROPS_PREFIX) ? 'custom properties' : filters.length > 0 ? 'filters' : null
        if (fromEvents) await checkRawEvents(db, question, fromEvents)
        const results =
          property === GOAL_PROPERTY
            ? await getGoalBreakdown(db, question, paging, filters)
            : property === PROP_KEYS_PROPERTY || property.startsWith(PROPS_PREFIX)
              ? await getPropBreakdown(db, question, property === PROP_KEYS_PROPERTY ? null : property.slice(PROPS_PREFIX.length), paging, filters)
              : filters.length > 0
                ? await getFilteredBreakdown(db, question, property as BreakdownProperty, filters, paging)
                : await getBreakdown(db, question, property as BreakdownProperty, paging)
        return { site_id: query.site_id, from: question.from, to: question.to, timezone: question.tz, property: query.property, results }
      },
      {
        query: BreakdownQuery,
        response: { 200: Breakdown, 400: ErrorResponse },
        mapResponse: ({ query, responseValue: answer }) =>
          query.format === 'csv' && isAnswer(answer) && 'results' in answer
            ? csvDownload(
                [answer.site_id, answer.property, answer.from, answer.to, ...(query.page !== undefined && query.page > 1 ? [`page${query.page}`] : [])],
                breakdownColumns(query.property),
                answer.results,
              )
            : undefined,
        detail: {
          summary:
            'Visitors, visits, views, bounce rate and visit duration per value of one property (source, channel, page, country, …), goal or custom property',
          description:
            'Visit properties (all but page) come from the first event of each visit that starts in the range; page counts page views in the range. ' +
            'goal lists every goal of the site with its conversions over the visits of the range; props:<key> the values of a custom property over the events of the range that carry it, props the keys themselves. ' +
            'Sorted by visitors, most first, then by value.' +
            CSV_DESCRIPTION,
          tags: ['stats'],
        },
      },
    )
    .get(
      '/funnel',
      async ({ query, status }) => {
        const filters = await filtersOf(query)
        const question = await resolveQuestion(db, checkZone, query)
        await checkRawEvents(db, question, 'funnels')
        const report = await getFunnelReport(db, question, query.funnel_id, filters)
        if (!report) return status(404, { error: 'this site has no such funnel' })
        return {
          site_id: query.site_id,
          from: question.from,
          to: question.to,
          timezone: question.tz,
          funnel_id: query.funnel_id.toLowerCase(),
          funnel: report.name,
          steps: report.steps,
        }
      },
      {
        query: FunnelQuery,
        response: { 200: FunnelReport, 400: ErrorResponse, 404: ErrorResponse },
        detail: {
          summary: 'Visitors who reached each step of a funnel, in order, within one visit of the range; conversion and drop-off per step',
          tags: ['stats'],
        },
      },
    )
    .get('/realtime', async ({ query }) => ({ site_id: query.site_id, ...(await getRealtimeStats(db, query.site_id)) }), {
      query: RealtimeQuery,
      response: { 200: Realtime, 400: ErrorResponse },
      detail: { summary: 'Events and users of the last 5 minutes, and events per minute for the last 30', tags: ['stats'] },
    })
}
