import { t } from 'elysia'
import { CALENDAR_DATE, TEXT, UUID_PATTERN } from '../formats'
import { BREAKDOWN_PROPERTIES, type BreakdownProperty } from '../../lib/visit-properties'

const day = (name: string) => t.String({ format: CALENDAR_DATE, error: `${name} must be a calendar date in YYYY-MM-DD format`, examples: ['2025-11-14'] })
const siteId = t.String({
  minLength: 1,
  maxLength: 128,
  format: TEXT,
  error: 'site_id must be at most 128 characters without NUL characters or unpaired surrogates',
})
const tz = t.String({
  minLength: 1,
  maxLength: 64,
  format: TEXT,
  error: 'tz must be an IANA timezone name such as Europe/Paris',
  description: "IANA timezone; default: the site's",
})

const filters = t.Optional(
  t.String({
    maxLength: 4096,
    format: TEXT,
    error: 'filters must be at most 4096 characters without NUL characters or unpaired surrogates',
    description:
      'property==v1|v2 (is one of), property!=v1|v2 (is none of) or property~text (contains), joined by ; (all must hold); write |, ; and \\ inside a value as \\|, \\; and \\\\',
    examples: ['source==Google|Bing;country!=US'],
  }),
)

/** `csv` answers the rows alone as an RFC 4180 download (server/csv.ts); `json`, the default, the usual answer. */
const format = t.Optional(
  t.Union([t.Literal('json'), t.Literal('csv')], {
    error: 'format must be json or csv',
    description: 'json (default), or csv: the rows (buckets or results) as a text/csv download with a header row of the JSON field names',
  }),
)

/** 1 to 100 written as at most three digits (so not 1e1, 0x10 or " 5"), read as a number. */
const topPathsLimit = t
  .Transform(
    t.String({
      pattern: '^(?=[0-9]{1,3}$)0*(100|[1-9][0-9]?)$',
      error: 'limit must be a whole number from 1 to 100',
      description: 'Top paths to list; default 10',
    }),
  )
  .Decode((text) => Number(text))
  .Encode((limit) => String(limit))

export const StatsQuery = t.Object({
  site_id: siteId,
  date: t.Optional(day('date')),
  from: t.Optional(day('from')),
  to: t.Optional(day('to')),
  tz: t.Optional(tz),
  limit: t.Optional(topPathsLimit),
  filters,
})

export const PathViews = t.Object({ path: t.String(), views: t.Integer() })
export const EventTypeCount = t.Object({ event_type: t.String(), count: t.Integer() })

/** The original answer: one UTC day (or the site's zone), exactly these fields. */
export const DailyStats = t.Object({
  site_id: t.String(),
  date: t.String({ format: CALENDAR_DATE }),
  total_views: t.Integer(),
  unique_users: t.Integer(),
  top_paths: t.Array(PathViews),
})

/** The numbers of a range, as the queries return them. */
export const StatsNumbers = t.Object({
  total_views: t.Integer(),
  unique_users: t.Integer(),
  top_paths: t.Array(PathViews),
  event_types: t.Array(EventTypeCount),
})
export type StatsNumbers = typeof StatsNumbers.static

/** Visit figures of a range (README: Definitions). */
export const VisitNumbers = t.Object({
  visitors: t.Integer({ description: 'Distinct visitors of the visits that start in the range' }),
  visits: t.Integer(),
  bounce_rate: t.Integer({ description: 'Visits of one event, per cent of visits, rounded half up' }),
  visit_duration: t.Integer({ description: 'Mean seconds from first to last event of a visit, rounded half up' }),
  views_per_visit: t.Number({ description: 'Page views per visit, rounded half up to 2 decimals' }),
})

/** The answer when any of from/to/tz/limit is used. */
export const RangeStats = t.Composite([
  t.Object({ site_id: t.String(), from: t.String({ format: CALENDAR_DATE }), to: t.String({ format: CALENDAR_DATE }), timezone: t.String() }),
  StatsNumbers,
  VisitNumbers,
])

/** 1 to 10^k written as at most k + 1 digits (so not 1e1, 0x10 or " 5"), read as a number. */
const wholeNumber = (name: string, digits: number, description: string) => {
  const max = 10 ** digits
  return t
    .Transform(
      t.String({
        pattern: `^(?=[0-9]{1,${digits + 1}}$)0*(${max}|[1-9][0-9]{0,${digits - 1}})$`,
        error: `${name} must be a whole number from 1 to ${max}`,
        description,
      }),
    )
    .Decode((text) => Number(text))
    .Encode((value) => String(value))
}

/** Custom property breakdowns: `props:` and the key, as events may carry it. */
export const PROPS_PREFIX = 'props:'
export const GOAL_PROPERTY = 'goal'
/** The custom property keys themselves. */
export const PROP_KEYS_PROPERTY = 'props'
export type ReportProperty = BreakdownProperty | typeof GOAL_PROPERTY | typeof PROP_KEYS_PROPERTY | `${typeof PROPS_PREFIX}${string}`

export const BreakdownQuery = t.Object({
  site_id: siteId,
  property: t.Unsafe<ReportProperty>(
    t.String({
      pattern: `^(${BREAKDOWN_PROPERTIES.join('|')}|${GOAL_PROPERTY}|${PROP_KEYS_PROPERTY}|${PROPS_PREFIX}[A-Za-z0-9_.-]{1,64})$`,
      error: `property must be one of ${BREAKDOWN_PROPERTIES.join(', ')}, ${GOAL_PROPERTY}, ${PROP_KEYS_PROPERTY}, or ${PROPS_PREFIX}<key>`,
    }),
  ),
  date: t.Optional(day('date')),
  from: t.Optional(day('from')),
  to: t.Optional(day('to')),
  tz: t.Optional(tz),
  limit: t.Optional(wholeNumber('limit', 3, 'Rows per page; default 10')),
  page: t.Optional(wholeNumber('page', 6, 'Page of rows, from 1')),
  filters,
  format,
})

export const VisitBreakdownRow = t.Object({
  value: t.String(),
  visitors: t.Integer(),
  visits: t.Integer(),
  views: t.Integer(),
  bounce_rate: t.Integer(),
  visit_duration: t.Integer(),
})
export const PageBreakdownRow = t.Object({ value: t.String(), visitors: t.Integer(), views: t.Integer() })
export const PropBreakdownRow = t.Object({ value: t.String(), visitors: t.Integer(), events: t.Integer() })
export const GoalBreakdownRow = t.Object({
  value: t.String({ description: "The goal's name" }),
  visitors: t.Integer({ description: 'Visitors with a matching event in a visit that starts in the range' }),
  events: t.Integer({ description: 'Matching events in those visits' }),
  conversion_rate: t.Number({ description: "Those visitors per cent of all the range's visitors, rounded half up to one decimal" }),
})

/** The fields of a breakdown's rows for `property`, in the order the CSV answer writes them. */
export function breakdownColumns(property: ReportProperty): string[] {
  const row =
    property === GOAL_PROPERTY
      ? GoalBreakdownRow
      : property === PROP_KEYS_PROPERTY || property.startsWith(PROPS_PREFIX)
        ? PropBreakdownRow
        : property === 'page'
          ? PageBreakdownRow
          : VisitBreakdownRow
  return Object.keys(row.properties)
}

export const Breakdown = t.Object({
  site_id: t.String(),
  from: t.String({ format: CALENDAR_DATE }),
  to: t.String({ format: CALENDAR_DATE }),
  timezone: t.String(),
  property: t.String(),
  results: t.Union([t.Array(VisitBreakdownRow), t.Array(PageBreakdownRow), t.Array(PropBreakdownRow), t.Array(GoalBreakdownRow)]),
})

export const FunnelQuery = t.Object({
  site_id: siteId,
  funnel_id: t.String({
    pattern: UUID_PATTERN,
    error: 'funnel_id must be a UUID, as GET /sites/:id/funnels lists them',
  }),
  date: t.Optional(day('date')),
  from: t.Optional(day('from')),
  to: t.Optional(day('to')),
  tz: t.Optional(tz),
  filters,
})

export const FunnelReport = t.Object({
  site_id: t.String(),
  from: t.String({ format: CALENDAR_DATE }),
  to: t.String({ format: CALENDAR_DATE }),
  timezone: t.String(),
  funnel_id: t.String(),
  funnel: t.String({ description: "The funnel's name" }),
  steps: t.Array(
    t.Object({
      name: t.String({ description: "The step's goal" }),
      visitors: t.Integer({ description: 'Visitors with a visit of the range that matches this step and every one before it, in order' }),
      conversion_rate: t.Number({ description: "This step's visitors per cent of the first step's, rounded half up to one decimal" }),
      dropoff: t.Integer({ description: "The previous step's visitors minus this step's (0 for the first)" }),
    }),
  ),
})

export const TimeseriesQuery = t.Object({
  site_id: siteId,
  from: day('from'),
  to: day('to'),
  interval: t.Optional(
    t.Union([t.Literal('hour'), t.Literal('day'), t.Literal('week'), t.Literal('month')], { error: 'interval must be one of hour, day, week, month' }),
  ),
  tz: t.Optional(tz),
  filters,
  format,
})

export const TimeseriesBucket = t.Object({
  start: t.String({ description: 'ISO 8601 instant the bucket starts' }),
  views: t.Integer(),
  unique_users: t.Integer(),
  visitors: t.Integer(),
  visits: t.Integer(),
})
export type TimeseriesBucket = typeof TimeseriesBucket.static

export const Timeseries = t.Object({
  site_id: t.String(),
  from: t.String({ format: CALENDAR_DATE }),
  to: t.String({ format: CALENDAR_DATE }),
  interval: t.String(),
  timezone: t.String(),
  buckets: t.Array(TimeseriesBucket),
})

export const RealtimeQuery = t.Object({ site_id: siteId })

/** The numbers of the last minutes, as the query returns them. */
export const RealtimeNumbers = t.Object({
  now: t.String(),
  last_5_minutes: t.Object({ events: t.Integer(), unique_users: t.Integer() }),
  per_minute: t.Array(t.Object({ minute: t.String(), events: t.Integer() }), { description: 'The last 30 minutes, oldest first' }),
})
export type RealtimeNumbers = typeof RealtimeNumbers.static

export const Realtime = t.Composite([t.Object({ site_id: t.String() }), RealtimeNumbers])
