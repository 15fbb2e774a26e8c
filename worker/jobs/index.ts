import { UnrecoverableError, type Job } from 'bullmq'
import type { JobDataByName, JobName } from '../../lib/queue'

export type Handler<N extends JobName> = (job: Job<JobDataByName[N], unknown, N>) => Promise<unknown>
export type Handlers<N extends JobName> = { [K in N]: Handler<K> }

/**
 * A queue's processor: each job goes to the handler of its name. A name without one (a job
 * added to the wrong queue, or by a newer API) fails for good at once: no retry would help.
 */
export function createProcessor<N extends JobName>(handlers: Handlers<N>) {
  return async (job: Job<JobDataByName[N], unknown, N>): Promise<unknown> => {
    const handler: Handler<N> | undefined = Object.hasOwn(handlers, job.name) ? handlers[job.name] : undefined
    if (!handler) throw new UnrecoverableError(`unknown job name ${String(job.name)}`)
    return handler(job)
  }
}
