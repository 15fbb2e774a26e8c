import { Worker, type Job } from 'bullmq'
import type { Db } from '../drizzle/client'
import { errorFields, type Logger } from '../lib/log'
import { createProcessor } from './jobs'
import { createIngestHandler, type WriterOptions } from './jobs/ingest'
import { createPruneHandler, type PruneDeps } from './jobs/prune'
import { createRebuildHandler } from './jobs/rebuild'
import type { WorkerMetrics } from './metrics'
import {
  createMaintenanceQueue,
  INGEST_JOB,
  maintenanceQueueLocation,
  PRUNE_JOB,
  queuePrefix,
  REBUILD_JOB,
  type IngestQueueJobName,
  type JobDataByName,
  type MaintenanceQueue,
  type PruneJobData,
  type QueueLocation,
  type RedisConnection,
} from '../lib/queue'

export interface IngestWorkerDeps {
  connection: RedisConnection
  location: QueueLocation
  db: Db
  /** What the worker holds at once (see heldJobs); their events are combined into shared transactions. */
  prefetch: Prefetch
  writer: WriterOptions
  log: Logger
  metrics: WorkerMetrics
}

export type AnalyticsWorker = Worker<JobDataByName[IngestQueueJobName], unknown, IngestQueueJobName>

export interface Prefetch {
  /** Most jobs held at once. */
  jobs: number
  /** About how many events the held jobs may carry together. */
  events: number
}

/**
 * Jobs to hold at once (BullMQ's concurrency) for jobs of `averageEvents` events: as many as
 * carry about `prefetch.events` events, at most `prefetch.jobs`. Under single-event load a job
 * carries about 25 events and the worker needs many to fill a transaction; POST /events under
 * load makes jobs of about 2,000, and holding 200 of those only cost memory (bench/RESULTS.md).
 */
export function heldJobs(prefetch: Prefetch, averageEvents: number): number {
  return Math.max(1, Math.min(prefetch.jobs, Math.floor(prefetch.events / Math.max(1, averageEvents))))
}

/** Logs errors and failed jobs; without an error listener a lost Redis connection would surface as an unhandled error. */
function logFailures<D, N extends string>(worker: Worker<D, unknown, N>, log: Logger, failedMessage: string) {
  worker.on('error', (error) => log.error('worker error', errorFields(error)))
  worker.on('failed', (job: Job<D, unknown, N> | undefined, error) =>
    log.warn(failedMessage, {
      jobId: job?.id,
      attempt: job?.attemptsMade,
      willRetry: job ? job.attemptsMade < (job.opts.attempts ?? 1) && error.name !== 'UnrecoverableError' : false,
      ...errorFields(error),
    }),
  )
}

/** The worker of the ingest queue: ingest and rebuild jobs. */
export function createIngestWorker(deps: IngestWorkerDeps): AnalyticsWorker {
  // Jobs are taken to be as large as a transaction until some have been seen, so that a worker
  // starting on a backlog of large jobs does not take hundreds of them at once.
  let averageEvents = deps.writer.maxBatchEvents
  const processJob = createProcessor<IngestQueueJobName>({
    [INGEST_JOB]: createIngestHandler({
      ...deps,
      onJob: (events) => {
        // A moving average over the last few jobs follows a change of load within a few jobs.
        averageEvents += (events - averageEvents) / 4
        worker.concurrency = heldJobs(deps.prefetch, averageEvents)
      },
    }),
    [REBUILD_JOB]: createRebuildHandler(deps),
  })
  const worker: AnalyticsWorker = new Worker(deps.location.name, processJob, {
    connection: deps.connection,
    prefix: queuePrefix(deps.connection, deps.location.prefix),
    concurrency: heldJobs(deps.prefetch, averageEvents),
    // A job interrupted by a worker crash (its lock expired) goes back to the queue; BullMQ's
    // default of 1 would fail it for good at the second crash, with its events acknowledged.
    maxStalledCount: 20,
  })
  logFailures(worker, deps.log, 'batch failed')
  return worker
}

export interface MaintenanceWorker {
  worker: Worker<PruneJobData, unknown, typeof PRUNE_JOB>
  /** Where the job schedulers are registered (see schedulePrune). */
  queue: MaintenanceQueue
  close(): Promise<void>
}

/** The worker of the maintenance queue: the jobs its schedulers add. */
export function createMaintenanceWorker(deps: PruneDeps & { connection: RedisConnection; location: QueueLocation }): MaintenanceWorker {
  const queue = createMaintenanceQueue(deps.connection, deps.location)
  const location = maintenanceQueueLocation(deps.location)
  const worker = new Worker(location.name, createProcessor<typeof PRUNE_JOB>({ [PRUNE_JOB]: createPruneHandler(deps) }), {
    connection: deps.connection,
    prefix: queuePrefix(deps.connection, location.prefix),
  })
  logFailures(worker, deps.log, 'maintenance job failed')
  return {
    worker,
    queue,
    async close() {
      await worker.close()
      await queue.close()
    },
  }
}
