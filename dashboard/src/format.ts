const integer = new Intl.NumberFormat()
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 })
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })

/** 12345 → "12,345" in the reader's locale. */
export const formatCount = (value: number): string => integer.format(value)

/** 0.1234 → "12.3%". */
export const formatShare = (share: number): string => percent.format(share)

/** 1.25 → "1.25", 2 → "2". */
export const formatDecimal = (value: number): string => decimal.format(value)

/** A whole percentage as the API gives it: 75 → "75%". */
export const formatPercent = (value: number): string => `${integer.format(value)}%`

/** Seconds as Plausible shows them: "45s", "1m 23s", "1h 2m" (seconds stop mattering past an hour). */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds))
  const hours = Math.floor(whole / 3600)
  const minutes = Math.floor((whole % 3600) / 60)
  if (hours > 0) return `${integer.format(hours)}h ${minutes}m`
  if (minutes > 0) return `${minutes}m ${whole % 60}s`
  return `${whole}s`
}

const regions = new Intl.DisplayNames(['en'], { type: 'region' })

/** "US" → "United States"; anything that is no two-letter code (such as "(not set)") stays as it is. */
export function countryName(code: string): string {
  if (!/^[A-Z]{2}$/.test(code)) return code
  try {
    return regions.of(code) ?? code
  } catch {
    return code
  }
}

/** "US" → 🇺🇸: a flag is the code spelled in regional indicator symbols. */
export function countryFlag(code: string): string {
  if (!/^[A-Z]{2}$/.test(code)) return ''
  return String.fromCodePoint(...Array.from(code, (letter) => 0x1f1e6 + letter.charCodeAt(0) - 65))
}

/** A percentage to one decimal as the API gives it: 12.5 → "12.5%". */
export const formatRate = (value: number): string => percent.format(value / 100)
