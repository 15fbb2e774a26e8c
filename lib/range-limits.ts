/** What the API answers at most, shared with the dashboard so it can say so before asking. */

/** Longest range one request may ask about, in days (both ends included). */
export const MAX_RANGE_DAYS = 400
