import { Worker } from 'bullmq'
import type IORedis from 'ioredis'
import type { Db } from '../drizzle/client'
import { errorFields, type Logger } from '../lib/log'
import { createIngestProcessor, type BatchWriteResult } from './jobs/ingest'
import { DEFAULT_QUEUE_PREFIX, type IngestJobData, type QueueLocation } from './queues'

export interface IngestWorkerDeps {
  connection: IORedis
  location: QueueLocation
  db: Db
  concurrency: number
  log: Logger
}

export function createIngestWorker(deps: IngestWorkerDeps): Worker<IngestJobData, BatchWriteResult> {
  const worker = new Worker<IngestJobData, BatchWriteResult>(deps.location.name, createIngestProcessor(deps.db, deps.log), {
    connection: deps.connection,
    prefix: deps.location.prefix ?? DEFAULT_QUEUE_PREFIX,
    concurrency: deps.concurrency,
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
