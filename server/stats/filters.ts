/**
 * The `filters` parameter: `<expr>;<expr>…`, all of which must hold. Each expression is
 * `property==v1|v2` (is one of), `property!=v1|v2` (is none of) or `property~text` (contains, case
 * insensitive); inside a value `|`, `;` and `\` are written `\|`, `\;` and `\\`. Pure: parsing
 * only; server/stats/filtered.ts turns filters into SQL.
 */
import { BadRequestError } from '../errors'
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
const OPERATORS: [string, Operator][] = [
  ['==', 'is'],
  ['!=', 'is_not'],
  ['~', 'contains'],
]
const FILTERABLE = [...BREAKDOWN_PROPERTIES, 'event_type', 'goal', 'props:<key>']

const refuse = (reason: string) => new BadRequestError(`filters: ${reason}`)

/** Splits on every unescaped `separator`, keeping escapes (they are undone per value). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[i + 1]
      i++
    } else if (char === separator) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts
}

function unescape(text: string, expression: string): string {
  let value = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char !== '\\') value += char
    else {
      const next = text[i + 1]
      if (next !== '\\' && next !== '|' && next !== ';') {
        throw refuse(`${JSON.stringify(expression)} has a \\ that escapes nothing; write \\\\ for a backslash, \\| and \\; for | and ;`)
      }
      value += next
      i++
    }
  }
  return value
}

function parseExpression(expression: string): Filter {
  const found = OPERATORS.map(([symbol, operator]) => ({ symbol, operator, at: expression.indexOf(symbol) }))
    .filter((candidate) => candidate.at > 0)
    .sort((a, b) => a.at - b.at)[0]
  if (!found) throw refuse(`${JSON.stringify(expression)} has no operator; use property==value, property!=value or property~text`)
  const property = expression.slice(0, found.at)
  const rest = expression.slice(found.at + found.symbol.length)
  const values = (found.operator === 'contains' ? [rest] : splitUnescaped(rest, '|')).map((value) => unescape(value, expression))
  if (found.operator === 'contains' && splitUnescaped(rest, '|').length > 1) {
    throw refuse(`${JSON.stringify(expression)}: ~ takes one text; write a | inside it as \\|`)
  }
  if (values.some((value) => value === '')) throw refuse(`${JSON.stringify(expression)} has an empty value`)
  if (values.length > MAX_VALUES) throw refuse(`${JSON.stringify(property)} may list at most ${MAX_VALUES} values`)
  if (property === 'page' || property === 'event_type' || property === 'goal' || PROPS_KEY.test(property)) {
    return { kind: 'event', property: property as EventFilterProperty, operator: found.operator, values }
  }
  if ((BREAKDOWN_PROPERTIES as readonly string[]).includes(property)) {
    return { kind: 'visit', property: property as VisitProperty, operator: found.operator, values }
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
