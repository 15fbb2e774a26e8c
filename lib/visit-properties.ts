/**
 * The breakdown properties, shared by the worker, which keeps visit figures per property value
 * (visit_days, value_visitors), and the API, which reads them and names them in its errors.
 */
export const BREAKDOWN_PROPERTIES = [
  'source',
  'channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_term',
  'referrer',
  'entry_page',
  'exit_page',
  'page',
  'browser',
  'os',
  'device',
  'country',
] as const
export type BreakdownProperty = (typeof BREAKDOWN_PROPERTIES)[number]

/** The properties a visit takes from its events (all but `page`, which counts page views), each the visits column of that name. */
export type VisitProperty = Exclude<BreakdownProperty, 'page'>
export const VISIT_PROPERTIES = BREAKDOWN_PROPERTIES.filter((property): property is VisitProperty => property !== 'page')

/** Campaign tags count only the visits that have one; other properties report a missing value as NOT_SET. */
export const onlyWhenSet = (property: VisitProperty) => property.startsWith('utm_')

export const NOT_SET = '(not set)'

/** SQL text of the value a visit row named `alias` counts under for a property: null where it does not count (a missing campaign tag). */
export const visitValueSql = (alias: string, property: VisitProperty) =>
  onlyWhenSet(property) ? `${alias}.${property}` : `coalesce(${alias}.${property}, '${NOT_SET}')`

/** The `property` of the rows that hold every visit (their value is ''), and of the rows of page views. */
export const ALL_VISITS = ''
export const PAGE_VIEWS = 'page' satisfies BreakdownProperty
