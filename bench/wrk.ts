/**
 * Runs wrk with bench/wrk/ingest.lua and returns its counters. The Lua script stops each thread
 * once its time is up and every request it sent has been answered; wrk itself would otherwise
 * sleep out its full -d, so we interrupt it (SIGINT ends that sleep) as soon as all threads report.
 */
import { resolve } from 'node:path'
import { anyDied, type ManagedProcess } from '../tests/kit/processes'

const SCRIPT = resolve(import.meta.dir, 'wrk/ingest.lua')
/** Extra seconds wrk may run past the Lua deadline if a thread never drains (a lost request). */
const HARD_STOP_MARGIN_S = 20

export interface WrkLoad {
  url: string
  threads: number
  connections: number
  /** Seconds during which requests are started. */
  duration: number
  /** Prefix of every event_id of this load. */
  tag: string
  /** 0: POST /event; n: POST /events with n events per request. */
  batch: number
  /** Total requests per second; 0 = as fast as possible. */
  requestRate: number
  /** Events carry user agent, referrer, UTM tags, screen width and address or country. */
  visitFields: boolean
}

/** What done() in the Lua script prints. Times are epoch milliseconds, latencies microseconds. */
export interface WrkCounters {
  sent: number
  answered: number
  /** Requests answered 202. */
  ok: number
  events_sent: number
  events_accepted: number
  events_refused: number
  statuses: Record<string, number>
  threads: number
  threads_stopped: number
  first_request_ms: number
  last_answer_ms: number
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  latency_us: { p50: number; p90: number; p99: number; max: number; mean: number }
  refusal_sample?: string
}

export interface WrkResult extends WrkCounters {
  /** Seconds from the first request to the last answer. */
  loadSeconds: number
  /** Requests answered with anything but 202. */
  non202: number
  /** performance.now() when the last thread finished (all answers in). */
  loadEndedAt: number
  /** CPU seconds wrk itself used (user + system). */
  cpuSeconds: number
}

export class WrkMissingError extends Error {
  override name = 'WrkMissingError'
}

const running = new Set<Bun.Subprocess>()

/** For a signal handler: ends any wrk still running. */
export function killRunningWrk(): void {
  for (const proc of running) proc.kill('SIGKILL')
}

export function findWrk(): string {
  const path = Bun.which('wrk')
  if (!path) throw new WrkMissingError('wrk is not installed or not on PATH (Debian/Ubuntu: apt-get install wrk); the benchmark needs it')
  return path
}

/** Runs one load; rejects if wrk fails or one of `watched` dies meanwhile (wrk is then killed). */
export async function runWrk(wrk: string, load: WrkLoad, env: Record<string, string>, watched: ManagedProcess[]): Promise<WrkResult> {
  const args = [
    `-t${load.threads}`,
    `-c${load.connections}`,
    `-d${Math.ceil(load.duration + HARD_STOP_MARGIN_S)}s`,
    '--timeout', '60s',
    '-s', SCRIPT,
    load.url,
    '--',
    `tag=${load.tag}`,
    `batch=${load.batch}`,
    `duration=${load.duration}`,
    `rate=${load.requestRate}`,
    `threads=${load.threads}`,
    `visit=${load.visitFields ? 1 : 0}`,
  ]
  const proc = Bun.spawn([wrk, ...args], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  running.add(proc)
  let loadEndedAt: number | undefined
  let interrupter: ReturnType<typeof setInterval> | undefined

  const readStdout = async (): Promise<string> => {
    let output = ''
    let done = 0
    const decoder = new TextDecoder()
    for await (const chunk of proc.stdout) {
      output += decoder.decode(chunk, { stream: true })
      const finished = output.match(/^BENCH_THREAD_DONE \d+$/gm)?.length ?? 0
      if (finished > done) done = finished
      if (done === load.threads && loadEndedAt === undefined) {
        loadEndedAt = performance.now()
        // Repeat until wrk exits: a signal that lands on a not-yet-exited worker thread would not
        // interrupt the main thread's sleep.
        proc.kill('SIGINT')
        interrupter = setInterval(() => proc.kill('SIGINT'), 100)
      }
    }
    return output
  }

  try {
    const [stdout, stderr, code] = await Promise.race([
      Promise.all([readStdout(), new Response(proc.stderr).text(), proc.exited]),
      anyDied(watched),
    ])
    const line = /^BENCH_RESULT (.*)$/m.exec(stdout)
    if (code !== 0 || !line) {
      throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stderr.trim()}\n${stdout.trim()}`)
    }
    const counters = JSON.parse(line[1]!) as WrkCounters
    return {
      ...counters,
      loadSeconds: (counters.last_answer_ms - counters.first_request_ms) / 1000,
      non202: counters.answered - counters.ok,
      // A thread that never drained (a lost request) ends at wrk's hard stop instead.
      loadEndedAt: loadEndedAt ?? performance.now(),
      cpuSeconds: cpuSeconds(proc.resourceUsage()),
    }
  } finally {
    clearInterval(interrupter)
    if (proc.exitCode === null) {
      proc.kill('SIGKILL')
      await proc.exited
    }
    running.delete(proc)
  }
}

function cpuSeconds(usage: Bun.ResourceUsage | undefined): number {
  return usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : NaN
}
