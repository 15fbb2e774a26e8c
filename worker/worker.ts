import { Worker } from 'bullmq'
import type IORedis from 'ioredis'
import type { Db } from '../drizzle/client'
import { errorFields, type Logger } from '../lib/log'
import { createProcessor, type WriterOptions } from './jobs'
import type { WorkerMetrics } from './metrics'
import { DEFAULT_QUEUE_PREFIX, type JobData, type JobName, type QueueLocation } from './queues'

export interface IngestWorkerDeps {
  connection: IORedis
  location: QueueLocation
  db: Db
  /** Jobs held at once (BullMQ concurrency); their events are combined into shared transactions. */
  prefetch: number
  writer: WriterOptions
  log: Logger
  metrics: WorkerMetrics
}

export type AnalyticsWorker = Worker<JobData, unknown, JobName>

export function createIngestWorker(deps: IngestWorkerDeps): AnalyticsWorker {
  const worker = new Worker<JobData, unknown, JobName>(deps.location.name, createProcessor(deps.db, deps.log, deps.metrics, deps.writer), {
    connection: deps.connection,
    prefix: deps.location.prefix ?? DEFAULT_QUEUE_PREFIX,
    concurrency: deps.prefetch,
    // A job interrupted by a worker crash (its lock expired) goes back to the queue; BullMQ's
    // default of 1 would fail it for good at the second crash, with its events acknowledged.
    maxStalledCount: 20,
  })
  // Without an error listener a lost Redis connection would surface as an unhandled error.
  worker.on('error', (error) => deps.log.error('worker error', errorFields(error)))
  worker.on('failed', (job, error) =>
    deps.log.warn('batch failed', {
      jobId: job?.id,
      attempt: job?.attemptsMade,
      willRetry: job ? job.attemptsMade < (job.opts.attempts ?? 1) : false,
      ...errorFields(error),
    }),
  )
  return worker
}
