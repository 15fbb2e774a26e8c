/**
 * The dashboard's filters, kept as the API's `filters` text (`source==Google;country!=US`) so the
 * URL, the chips and every request carry the same thing. Only what the chips need is parsed here.
 */

const escapeValue = (value: string) => value.replace(/[\\|;]/g, (char) => `\\${char}`)

/** Splits on `separator` where it is not escaped by a backslash. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) current += text[i]! + text[++i]!
    else if (text[i] === separator) {
      parts.push(current)
      current = ''
    } else current += text[i]
  }
  return [...parts, current]
}

export interface FilterChip {
  /** The expression as the API reads it. */
  expression: string
  property: string
  operator: 'is' | 'is not' | 'contains'
  values: string[]
}

const OPERATORS: [string, FilterChip['operator']][] = [
  ['==', 'is'],
  ['!=', 'is not'],
  ['~', 'contains'],
]

/** The chips of a filters text (expressions it cannot read are shown as they are). */
export function filterChips(text: string | null): FilterChip[] {
  if (!text) return []
  return splitUnescaped(text, ';').map((expression) => {
    const [symbol, operator] = OPERATORS.map((entry) => [expression.indexOf(entry[0]), entry] as const)
      .filter(([at]) => at > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([, entry]) => entry)[0] ?? ['', 'is' as const]
    const at = symbol ? expression.indexOf(symbol) : expression.length
    const rest = expression.slice(at + symbol.length)
    const values = (operator === 'contains' ? [rest] : splitUnescaped(rest, '|')).map((value) => value.replace(/\\(.)/g, '$1'))
    return { expression, property: expression.slice(0, at), operator, values }
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
