import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'

/**
 * The transaction-scoped advisory lock that serialises everything that writes a site's events,
 * rollups and visits: the worker's batches, rollup rebuilds and the API's deletion of a site's
 * data. Visits are read, merged and written back, so two of them must never work on one site at
 * once. Sites whose ids hash alike share a lock; take several in key order (`siteLockKey`).
 */
export const siteLockKey = (siteId: SQLWrapper | string): SQL => sql`hashtext(${siteId})`

/** Waits for, then holds until the transaction ends, the lock of one site. */
export const lockSite = (siteId: string): SQL => sql`select pg_advisory_xact_lock(${siteLockKey(siteId)})`
