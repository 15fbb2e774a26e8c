/**
 * Raw event retention as the API and the worker both describe it: RAW_RETENTION_DAYS drops whole
 * UTC months of raw events, and `event_retention.dropped_before` records the first instant kept.
 * Rollups, visits and their figures stay; what must read raw events refuses ranges before it.
 */

/** The first day of the UTC month that starts the raw events kept when the oldest allowed instant is `now - days`. */
export function retentionBoundary(now: Date, days: number): Date {
  const oldest = new Date(now.getTime() - days * 86_400_000)
  return new Date(Date.UTC(oldest.getUTCFullYear(), oldest.getUTCMonth(), 1))
}

/** Why a question that reads raw events is refused for a range that starts before `droppedBefore`. */
export function rawEventsGone(what: string, droppedBefore: Date): string {
  const day = droppedBefore.toISOString().slice(0, 10)
  return `${what} need raw events, and those before ${day} (UTC) were dropped by RAW_RETENTION_DAYS; ask from ${day} on`
}
