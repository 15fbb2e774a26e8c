/** What the API answers at most, shared with the dashboard so it can say so before asking. */

/** Longest range one request may ask about, in days (both ends included). */
export const MAX_RANGE_DAYS = 400

/**
 * Longest timeseries in a zone other than the site's rollup zone. Its day, week and month buckets
 * cut across the rollup days, so each is counted from rollup hours and scans a month of user
 * bitmaps with an hour mask: about 150 ms a bucket on a site of 48,000 users a month (400 daily
 * buckets took 78 s). 31 days keeps the dashboard's 30-day view in any zone.
 */
export const MAX_OTHER_ZONE_DAYS = 31
