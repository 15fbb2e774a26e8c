/** Formatting helpers for the benchmark's console output. */

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** 12,345 / 12.3 / 0.12: enough digits to read, not more. */
export function num(value: number | undefined, digits?: number): string {
  if (value === undefined || !Number.isFinite(value)) return '-'
  const fraction = digits ?? (Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)
  return value.toLocaleString('en-US', { minimumFractionDigits: fraction, maximumFractionDigits: fraction })
}

export function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${num(bytes / 1024 / 1024, 1)} MB`
}

export function pct(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${num(value, 1)}%` : '-'
}

/** A plain text table; columns of numbers (and dashes) are right-aligned, headers included. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const numeric = (cell: string) => /^[-+>]?[\d.,]+(\s?[a-zA-Z%/]+)?$|^-$/.test(cell)
  const rightAligned = headers.map((_, i) => rows.some((r) => r[i] !== undefined) && rows.every((r) => r[i] === undefined || numeric(r[i])))
  const line = (cells: string[]) =>
    cells.map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export function heading(title: string): string {
  return `\n${title}\n${'='.repeat(title.length)}`
}
