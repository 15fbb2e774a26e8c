/**
 * The breakdown properties a visit takes from its events, shared by the worker, which keeps visit
 * figures per property value (visit_days, value_visitors), and the API, which reads them. Each is
 * the visits column of that name.
 */
export const VISIT_PROPERTIES = [
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
  'browser',
  'os',
  'device',
  'country',
] as const
export type VisitProperty = (typeof VISIT_PROPERTIES)[number]

/** Campaign tags count only the visits that have one; other properties report a missing value as NOT_SET. */
export const onlyWhenSet = (property: VisitProperty) => property.startsWith('utm_')

export const NOT_SET = '(not set)'

/** The `property` of the rows that hold every visit (their value is ''), and of the rows of page views. */
export const ALL_VISITS = ''
export const PAGE_VIEWS = 'page'
