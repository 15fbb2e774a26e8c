/**
 * Child processes of the benchmark and what it measures about them: start/stop with loud failure
 * when one dies unexpectedly, peak RSS sampling, and CPU time per process group.
 */
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import type { Subprocess } from 'bun'

export class ProcessDiedError extends Error {
  override name = 'ProcessDiedError'
}

const STOP_GRACE_MS = 15_000

export interface StartOptions {
  cwd: string
  env: Record<string, string>
  /** stdout and stderr are appended here, so a failure can show the last lines. */
  logPath: string
}

/** A child we started. `died` rejects if it exits before stop() was called. */
export class ManagedProcess {
  readonly died: Promise<never>
  private stopping = false

  private constructor(
    readonly name: string,
    readonly proc: Subprocess,
    readonly logPath: string,
  ) {
    this.died = proc.exited.then((code) => {
      if (this.stopping) return new Promise<never>(() => {})
      throw new ProcessDiedError(`${name} (pid ${proc.pid}) exited unexpectedly with code ${code}; last log lines:\n${tail(logPath, 25)}`)
    })
    // Observed through races; this only keeps an unobserved rejection from being reported twice.
    this.died.catch(() => {})
  }

  static start(name: string, cmd: string[], options: StartOptions): ManagedProcess {
    const fd = openSync(options.logPath, 'a')
    try {
      const proc = Bun.spawn(cmd, { cwd: options.cwd, env: options.env, stdin: 'ignore', stdout: fd, stderr: fd })
      return new ManagedProcess(name, proc, options.logPath)
    } finally {
      closeSync(fd) // the child holds its own copy
    }
  }

  get pid(): number {
    return this.proc.pid
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** SIGTERM (the product's graceful shutdown), then SIGKILL if it does not exit in time. */
  async stop(): Promise<void> {
    this.stopping = true
    if (!this.running) return
    this.proc.kill('SIGTERM')
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)])
    if (!exited) {
      console.error(`! ${this.name} (pid ${this.pid}) ignored SIGTERM for ${STOP_GRACE_MS / 1000} s; sending SIGKILL`)
      this.proc.kill('SIGKILL')
      await this.proc.exited
    }
  }
}

export function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** How many times `needle` occurs in a file (e.g. a log line kind). */
export function countOccurrences(path: string, needle: string): number {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return 0
  }
  let count = 0
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++
  return count
}

/** Rejects with the first death among `processes`; never resolves otherwise. */
export function anyDied(processes: ManagedProcess[]): Promise<never> {
  return Promise.race(processes.map((p) => p.died))
}

/** Polls `check` until it returns true, failing on timeout or when a watched process dies. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, watched: ManagedProcess[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const death = anyDied(watched)
  while (Date.now() < deadline) {
    if (await Promise.race([Promise.resolve(check()), death])) return
    await Promise.race([Bun.sleep(100), death])
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
}

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(): number {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** Resident set size in bytes, from /proc/<pid>/status; undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** Samples the RSS of named processes every 200 ms and keeps the peak of each. */
export class PeakRssSampler {
  private readonly peaks = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly pids: Record<string, number>) {}

  start(): this {
    this.sample()
    this.timer = setInterval(() => this.sample(), 200)
    return this
  }

  /** Peak bytes per name. */
  stop(): Record<string, number> {
    clearInterval(this.timer)
    this.sample()
    return Object.fromEntries(this.peaks)
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const rss = rssBytes(pid)
      if (rss !== undefined && rss > (this.peaks.get(name) ?? 0)) this.peaks.set(name, rss)
    }
  }
}

// Linux reports CPU times in clock ticks; USER_HZ is 100 on every mainstream build.
const CLOCK_TICKS_PER_SECOND = 100

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/** Every PostgreSQL server process (the server is shared, so other databases' work counts too). */
export function postgresPids(): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

function machineBusySeconds(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0) // idle + iowait
  const total = cpu.reduce((sum, n) => sum + n, 0)
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND }
}

/**
 * CPU time per named group of processes between start() and stop(), as % of one core. Groups are
 * listed again at stop(), so processes started meanwhile (new Postgres backends) count in full.
 */
export class CpuMeter {
  private before = new Map<number, number>()
  private machineBefore = machineBusySeconds()
  private startedAt = 0

  constructor(private readonly groups: () => Record<string, number[]>) {}

  start(): this {
    this.before = new Map(Object.values(this.groups()).flat().map((pid) => [pid, cpuSeconds(pid)]))
    this.machineBefore = machineBusySeconds()
    this.startedAt = performance.now()
    return this
  }

  /** Percent of one core per group, plus `machine`: busy % of all cores together (100 = all busy). */
  stop(): Record<string, number> {
    const seconds = (performance.now() - this.startedAt) / 1000
    const result: Record<string, number> = {}
    for (const [name, pids] of Object.entries(this.groups())) {
      const used = pids.reduce((sum, pid) => sum + cpuSeconds(pid) - (this.before.get(pid) ?? 0), 0)
      result[name] = (100 * used) / seconds
    }
    const machine = machineBusySeconds()
    result.machine = (100 * (machine.busy - this.machineBefore.busy)) / (machine.total - this.machineBefore.total)
    return result
  }
}
