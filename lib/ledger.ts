/**
 * The ledger's contract between the API (which writes refusals per hour and answers
 * GET /ingest/ledger?recent_hours) and the worker (whose prune job drops older hours).
 */

/** The longest window `recent_hours` may ask for, and so the hours of refusals kept. */
export const MAX_RECENT_HOURS = 168
