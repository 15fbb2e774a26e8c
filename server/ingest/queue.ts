import { errorFields, type Logger } from '../../lib/log'
import { INGEST_JOB, type IngestQueue } from '../../worker/queues'
import { QueueUnavailableError, type Enqueue } from './routes'

/** Enqueues one job per call; resolves only after Redis has acknowledged the job. */
export function createQueueEnqueue(queue: IngestQueue, log: Logger): Enqueue {
  return async (events) => {
    try {
      const job = await queue.add(INGEST_JOB, { events })
      return { jobId: job.id! }
    } catch (error) {
      log.error('enqueue failed', { events: events.length, ...errorFields(error) })
      throw new QueueUnavailableError('Event queue is unavailable; retry later', { cause: error })
    }
  }
}
