/**
 * The dashboard's filters, kept as the API's `filters` text (`source==Google;country!=US`) so the
 * URL, the chips and every request carry the same thing. Only what the chips need is parsed here.
 */

import { escapeValue, splitExpression, splitUnescaped, unescapeValue, type FilterSymbol } from '../../lib/filter-syntax'

export interface FilterChip {
  /** The expression as the API reads it. */
  expression: string
  property: string
  operator: 'is' | 'is not' | 'contains'
  values: string[]
}

const OPERATORS: Record<FilterSymbol, FilterChip['operator']> = { '==': 'is', '!=': 'is not', '~': 'contains' }

/** The chips of a filters text (expressions it cannot read are shown as they are). */
export function filterChips(text: string | null): FilterChip[] {
  if (!text) return []
  return splitUnescaped(text, ';').map((expression) => {
    const parts = splitExpression(expression)
    if (!parts) return { expression, property: expression, operator: 'is', values: [] }
    const operator = OPERATORS[parts.symbol]
    const values = (operator === 'contains' ? [parts.rest] : splitUnescaped(parts.rest, '|')).map((value) => unescapeValue(value) ?? value)
    return { expression, property: parts.property, operator, values }
  })
}

/** The filters text with `property==value` added (replacing an `==` filter on the same property). */
export function withFilter(text: string | null, property: string, value: string): string {
  const kept = filterChips(text).filter((chip) => !(chip.property === property && chip.operator === 'is'))
  return [...kept.map((chip) => chip.expression), `${property}==${escapeValue(value)}`].join(';')
}

/** The filters text without one expression; null when none is left. */
export function withoutFilter(text: string | null, expression: string): string | null {
  const kept = filterChips(text).filter((chip) => chip.expression !== expression)
  return kept.length > 0 ? kept.map((chip) => chip.expression).join(';') : null
}
