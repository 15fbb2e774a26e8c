import { errorFields, type Logger } from './log'

/**
 * Bounds a graceful stop: under the API's and the worker's stop_grace_period in docker-compose,
 * so a process that cannot finish says why and exits itself rather than being killed silently.
 */
export const SHUTDOWN_DEADLINE_MS = 25_000

export interface ShutdownStep {
  /** Named in the log line when the deadline passes during it. */
  name: string
  close: () => unknown
}

export interface ShutdownOptions {
  /** Prefix of the log lines: "<name> stopping", "<name> stopped". */
  name: string
  log: Logger
  deadlineMs?: number
}

/**
 * The one way a process stops: on the first SIGTERM or SIGINT, runs the steps in order (each
 * awaited) and exits 0. A step that throws is logged, the later ones still run, and the exit
 * code is 1; so it is if the steps outlast the deadline, with a log line naming the step.
 * Further signals are ignored meanwhile: the deadline bounds the stop.
 */
export function onShutdown(steps: ShutdownStep[], options: ShutdownOptions): void {
  const { name, log, deadlineMs = SHUTDOWN_DEADLINE_MS } = options
  let stopping = false
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log.info(`${name} stopping`, { signal })
    let current = ''
    const deadline = setTimeout(() => {
      log.error(`${name} did not stop within the deadline`, { deadlineMs, step: current })
      process.exit(1)
    }, deadlineMs)
    let failed = false
    for (const step of steps) {
      current = step.name
      try {
        await step.close()
      } catch (error) {
        failed = true
        log.error(`${name} stop step failed`, { step: step.name, ...errorFields(error) })
      }
    }
    clearTimeout(deadline)
    const exitCode = failed ? 1 : 0
    log.info(`${name} stopped`, { exitCode })
    process.exit(exitCode)
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal))
}
