import { isIP } from 'node:net'
import { FormatRegistry } from '@sinclair/typebox'
import { isCountryCode } from './ingest/enrich/country'

/**
 * Strict string formats for the t schemas. Elysia's own `date` and `date-time` formats accept
 * anything JavaScript's Date can parse (and roll 2025-02-30 over to March), which is too lax for
 * a public contract.
 */
export const CALENDAR_DATE = 'calendar-date'
export const INSTANT = 'instant'
export const TEXT = 'text'
export const PAGE_PATH = 'page-path'
export const ABSOLUTE_URL = 'absolute-url'
export const IP_ADDRESS = 'ip-address'
export const COUNTRY_CODE = 'country-code'

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const INSTANT_PATTERN = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/

export function isCalendarDate(value: string): boolean {
  const match = DATE.exec(value)
  if (!match) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** ISO 8601 date-time with seconds and an explicit offset (`Z` or `±hh:mm`). */
export function isInstant(value: string): boolean {
  const match = INSTANT_PATTERN.exec(value)
  return match !== null && isCalendarDate(match[1]!) && !Number.isNaN(Date.parse(value))
}

/**
 * Text Postgres can store and JSON can carry: no NUL character (Postgres text cannot hold one)
 * and no unpaired UTF-16 surrogate (invalid Unicode that JSON.parse lets through).
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\0') && value.isWellFormed()
}

/**
 * Most UTF-8 bytes of a path: rollup indexes hold the path with the site id, and a btree entry
 * may not pass about 2.7 KB, or the event's whole job fails in the worker.
 */
/** A UUID in any case, as goal and funnel ids are written (a pattern: TypeBox knows no uuid format here). */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

export const MAX_PATH_BYTES = 2048

/** Storable text of at most MAX_PATH_BYTES in UTF-8. */
export function isPagePath(value: string): boolean {
  return isStorableText(value) && Buffer.byteLength(value) <= MAX_PATH_BYTES
}

/** An absolute URL with a host (https://example.com/page), or '' for none. */
export function isAbsoluteUrlOrEmpty(value: string): boolean {
  return value === '' || (isStorableText(value) && (URL.parse(value)?.host ?? '') !== '')
}

/** Idempotent; called by createApp before any schema is compiled. */
export function registerFormats(): void {
  if (!FormatRegistry.Has(PAGE_PATH)) FormatRegistry.Set(PAGE_PATH, isPagePath)
  if (!FormatRegistry.Has(ABSOLUTE_URL)) FormatRegistry.Set(ABSOLUTE_URL, isAbsoluteUrlOrEmpty)
  // Zone ids (fe80::1%eth0) name an interface of the sender's, not a visitor: refused.
  if (!FormatRegistry.Has(IP_ADDRESS)) FormatRegistry.Set(IP_ADDRESS, (value) => isIP(value) !== 0 && !value.includes('%'))
  if (!FormatRegistry.Has(COUNTRY_CODE)) FormatRegistry.Set(COUNTRY_CODE, isCountryCode)
  if (!FormatRegistry.Has(CALENDAR_DATE)) FormatRegistry.Set(CALENDAR_DATE, isCalendarDate)
  if (!FormatRegistry.Has(INSTANT)) FormatRegistry.Set(INSTANT, isInstant)
  if (!FormatRegistry.Has(TEXT)) FormatRegistry.Set(TEXT, isStorableText)
}
