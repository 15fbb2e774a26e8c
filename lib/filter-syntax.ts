/**
 * The written form of the `filters` parameter, shared by the API (server/stats/filters.ts, which
 * checks it) and the dashboard (its chips and the filters a click adds): expressions joined by
 * `;`, each `property` + `==`, `!=` or `~` + values joined by `|`, with `\|`, `\;` and `\\`
 * standing for those characters inside a value. Pure: no I/O, no refusals.
 */

export type FilterSymbol = '==' | '!=' | '~'
const SYMBOLS: FilterSymbol[] = ['==', '!=', '~']

/** Splits on every unescaped `separator`, keeping escapes (they are undone per value). */
export function splitUnescaped(text: string, separator: string): string[] {
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

/** An expression cut at its first operator (one after a non-empty property); null without one. */
export function splitExpression(expression: string): { property: string; symbol: FilterSymbol; rest: string } | null {
  const found = SYMBOLS.map((symbol) => ({ symbol, at: expression.indexOf(symbol) }))
    .filter((candidate) => candidate.at > 0)
    .sort((a, b) => a.at - b.at)[0]
  if (!found) return null
  return { property: expression.slice(0, found.at), symbol: found.symbol, rest: expression.slice(found.at + found.symbol.length) }
}

/** A value with its escapes undone; null when a `\` escapes anything but `\`, `|` or `;`. */
export function unescapeValue(text: string): string | null {
  let value = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char !== '\\') value += char
    else {
      const next = text[i + 1]
      if (next !== '\\' && next !== '|' && next !== ';') return null
      value += next
      i++
    }
  }
  return value
}

/** A value as written inside an expression. */
export const escapeValue = (value: string) => value.replace(/[\\|;]/g, (char) => `\\${char}`)
