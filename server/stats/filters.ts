/**
 * The `filters` parameter: `<expr>;<expr>…`, all of which must hold. Each expression is
 * `property==v1|v2` (is one of), `property!=v1|v2` (is none of) or `property~text` (contains, case
 * insensitive); inside a value `|`, `;` and `\` are written `\|`, `\;` and `\\` (lib/filter-syntax.ts,
 * which the dashboard shares). Pure: parsing and its refusals; server/stats/filtered.ts turns filters into SQL.
 */
import { BadRequestError } from '../errors'
import { splitExpression, splitUnescaped, unescapeValue, type FilterSymbol } from '../../lib/filter-syntax'
import { BREAKDOWN_PROPERTIES, type VisitProperty } from '../../lib/visit-properties'
import { PROPS_PREFIX } from './model'

/** Event properties keep the visits with a matching event (`!=`: with none); the others are the visit's own. */
export const EVENT_FILTER_PROPERTIES = ['page', 'event_type', 'goal'] as const
export type EventFilterProperty = (typeof EVENT_FILTER_PROPERTIES)[number] | `${typeof PROPS_PREFIX}${string}`

export type Operator = 'is' | 'is_not' | 'contains'

export type Filter =
  | { kind: 'visit'; property: VisitProperty; operator: Operator; values: string[] }
  | { kind: 'event'; property: EventFilterProperty; operator: Operator; values: string[] }

export const MAX_FILTERS = 10
const MAX_VALUES = 100

const PROPS_KEY = /^props:[A-Za-z0-9_.-]{1,64}$/
const OPERATORS: Record<FilterSymbol, Operator> = { '==': 'is', '!=': 'is_not', '~': 'contains' }
const FILTERABLE = [...BREAKDOWN_PROPERTIES, 'event_type', 'goal', 'props:<key>']

const refuse = (reason: string) => new BadRequestError(`filters: ${reason}`)

function unescape(text: string, expression: string): string {
  const value = unescapeValue(text)
  if (value === null) throw refuse(`${JSON.stringify(expression)} has a \\ that escapes nothing; write \\\\ for a backslash, \\| and \\; for | and ;`)
  return value
}

function parseExpression(expression: string): Filter {
  const parts = splitExpression(expression)
  if (!parts) throw refuse(`${JSON.stringify(expression)} has no operator; use property==value, property!=value or property~text`)
  const { property, symbol, rest } = parts
  const operator = OPERATORS[symbol]
  const written = splitUnescaped(rest, '|')
  const values = (operator === 'contains' ? [rest] : written).map((value) => unescape(value, expression))
  if (operator === 'contains' && written.length > 1) throw refuse(`${JSON.stringify(expression)}: ~ takes one text; write a | inside it as \\|`)
  if (values.some((value) => value === '')) throw refuse(`${JSON.stringify(expression)} has an empty value`)
  if (values.length > MAX_VALUES) throw refuse(`${JSON.stringify(property)} may list at most ${MAX_VALUES} values`)
  if ((EVENT_FILTER_PROPERTIES as readonly string[]).includes(property) || PROPS_KEY.test(property)) {
    return { kind: 'event', property: property as EventFilterProperty, operator, values }
  }
  if ((BREAKDOWN_PROPERTIES as readonly string[]).includes(property)) {
    return { kind: 'visit', property: property as VisitProperty, operator, values }
  }
  throw refuse(`unknown property ${JSON.stringify(property)}; use one of ${FILTERABLE.join(', ')}`)
}

/** The filters of a request (none for an absent parameter), or a 400 naming what is wrong. */
export function parseFilters(text: string | undefined): Filter[] {
  if (text === undefined) return []
  if (text === '') throw refuse('empty; leave the parameter out for no filter')
  const expressions = splitUnescaped(text, ';')
  if (expressions.length > MAX_FILTERS) throw refuse(`at most ${MAX_FILTERS} filters, got ${expressions.length}`)
  return expressions.map((expression) => {
    if (expression === '') throw refuse('an empty filter between two ;')
    return parseExpression(expression)
  })
}
