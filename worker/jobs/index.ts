import type { Job } from 'bullmq'
import type { Db } from '../../drizzle/client'
import type { Logger } from '../../lib/log'
import { INGEST_JOB, REBUILD_JOB, type IngestJobData, type JobData, type JobName, type RebuildJobData } from '../queues'
import type { WorkerMetrics } from '../metrics'
import { processIngestJob } from './ingest'
import { rebuildRollups } from './rebuild'
import { pruneRealtime } from './rollups'

const PRUNE_EVERY_MS = 60_000

/** One processor for the queue: dispatches on the job's kind. */
export function createProcessor(db: Db, log: Logger, metrics: WorkerMetrics) {
  let prunedAt = 0
  return async (job: Job<JobData, unknown, JobName>): Promise<unknown> => {
    switch (job.name) {
      case INGEST_JOB: {
        const ingest = job as Job<IngestJobData>
        const started = performance.now()
        const result = await processIngestJob(db, log, ingest).catch((error) => {
          metrics.jobs.inc({ kind: INGEST_JOB, outcome: 'failed' })
          throw error
        })
        const committed = Date.now()
        metrics.writeSeconds.observe((performance.now() - started) / 1000)
        metrics.jobs.inc({ kind: INGEST_JOB, outcome: 'completed' })
        metrics.written.inc({}, result.inserted)
        metrics.duplicates.inc({}, result.duplicates)
        for (const event of ingest.data.events) metrics.lagSeconds.observe((committed - Date.parse(event.receivedAt)) / 1000)
        if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
          prunedAt = Date.now()
          await pruneRealtime(db, new Date())
        }
        return result
      }
      case REBUILD_JOB: {
        const { siteId, range } = (job as Job<RebuildJobData>).data
        log.info('rebuilding rollups', { jobId: job.id, siteId, ...range })
        const result = await rebuildRollups(db, siteId, range)
        log.info('rollups rebuilt', { jobId: job.id, ...result })
        return result
      }
      default:
        throw new Error(`unknown job kind ${String(job.name)}`)
    }
  }
}
