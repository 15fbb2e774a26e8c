import type { Db } from '../../drizzle/client'
import { assertExact, bucketTotals, type Interval, type Question } from './buckets'
import type { TimeseriesBucket } from './model'
import { visitsPerBucket } from './visits'

/** Every bucket of the range, empty ones as zeros. */
export async function getTimeseries(db: Db, q: Question, interval: Interval): Promise<TimeseriesBucket[]> {
  await assertExact(db, q, interval)
  const [buckets, visits] = await Promise.all([bucketTotals(db, q, interval), visitsPerBucket(db, q, interval)])
  return buckets.map((bucket) => ({
    start: new Date(bucket.start).toISOString(),
    views: bucket.views,
    unique_users: bucket.unique_users,
    visitors: visits.get(bucket.idx)?.visitors ?? 0,
    visits: visits.get(bucket.idx)?.visits ?? 0,
  }))
}
