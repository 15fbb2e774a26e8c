/**
 * Child processes and bounded waits, shared by the tests and the benchmarks: the API, the worker
 * and the services they need run as real processes, are stopped with SIGTERM and then SIGKILL,
 * and every wait has a deadline that names what was awaited.
 */
import { closeSync, openSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Subprocess } from 'bun'
import type { RedisTarget } from '../../lib/config'
import { withTimeout } from '../../lib/timeout'

export const ROOT = resolve(import.meta.dir, '../..')

const STOP_GRACE_MS = 15_000

// ---------------------------------------------------------------------------------------------
// Waits

/** A TCP port nothing listens on right now (the kernel's choice for port 0). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return port
}

/** Rejects with `label` if `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  return withTimeout(promise, ms, () => new Error(`timed out after ${ms} ms: ${label}`))
}

/** Thrown by a probe to end `pollUntil` at once (a condition that waiting cannot fix). */
export class Fatal extends Error {
  override name = 'Fatal'
}

/** A watched process exited before it was asked to stop. */
export class ProcessDiedError extends Fatal {
  override name = 'ProcessDiedError'
}

/**
 * Polls `probe` (each call awaited, never overlapping) until it returns a value other than
 * undefined/false, or fails with `label` and the last value/error seen once `timeoutMs` passed.
 * Errors thrown by the probe count as "not yet", except `Fatal`, which ends the wait; so does the
 * death of one of `watched`.
 */
export async function pollUntil<T>(
  label: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 50,
  watched: ManagedProcess[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  const death = anyDied(watched)
  let last: unknown
  for (;;) {
    try {
      const value = await Promise.race([Promise.resolve(probe()), death])
      if (value !== undefined && value !== false) return value
      last = value
    } catch (error) {
      if (error instanceof Fatal) throw error
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`)
    }
    await Promise.race([Bun.sleep(intervalMs), death])
  }
}

/** Whether `baseUrl` answers GET /health with a 2xx within 2 s. */
export async function answersHealth(baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) })).ok
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** The caller's environment (PATH, HOME, ...) with `overrides` laid over it. */
export function childEnv(overrides: Record<string, string>): Record<string, string> {
  const inherited: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined) inherited[name] = value
  }
  return { ...inherited, ...overrides }
}

/** Every child started here; killed on the way out if its owner forgot (or crashed). */
const children = new Set<Subprocess>()
const exitHooks = new Set<() => void>()
process.on('exit', () => {
  for (const hook of exitHooks) {
    try {
      hook()
    } catch {}
  }
  for (const child of children) child.kill('SIGKILL')
})

/** Runs `hook` when this process exits, before leftover children are killed; returns its removal. */
export function onExit(hook: () => void): () => void {
  exitHooks.add(hook)
  return () => exitHooks.delete(hook)
}

function track<T extends Subprocess>(proc: T): T {
  children.add(proc)
  void proc.exited.then(() => children.delete(proc))
  return proc
}

export interface SpawnOptions {
  /** Laid over the caller's environment. */
  env?: Record<string, string>
  /** Default: the repository's root. */
  cwd?: string
}

/**
 * A child we started. `died` rejects if it exits before stop() was called; `stop()` sends a
 * signal (SIGTERM: the product's graceful shutdown) and SIGKILL if it has not exited in time.
 */
abstract class Child<P extends Subprocess = Subprocess> {
  readonly died: Promise<never>
  readonly exited: Promise<number>
  private stopping = false

  protected constructor(
    readonly name: string,
    readonly proc: P,
  ) {
    this.exited = proc.exited
    this.died = proc.exited.then((code) => {
      if (this.stopping) return new Promise<never>(() => {})
      throw new ProcessDiedError(`${name} (pid ${proc.pid}) exited unexpectedly with ${proc.signalCode ?? `code ${code}`}; last output:\n${this.lastOutput()}`)
    })
    // Observed through races; this only keeps an unobserved rejection from being reported twice.
    this.died.catch(() => {})
  }

  /** The end of what it printed, for error messages. */
  abstract lastOutput(): string

  get pid(): number {
    return this.proc.pid
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** Resolves with the exit code, or the name of the signal that ended it. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = STOP_GRACE_MS): Promise<number | string> {
    this.stopping = true
    if (this.running) {
      this.proc.kill(signal)
      const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(ms).then(() => false)])
      if (!exited) {
        console.error(`! ${this.name} (pid ${this.pid}) ignored ${signal} for ${ms / 1000} s; sending SIGKILL`)
        this.proc.kill('SIGKILL')
      }
    }
    await this.proc.exited
    return this.proc.signalCode ?? this.proc.exitCode!
  }
}

export type ManagedProcess = Child

/**
 * A child whose stdout and stderr go to a file, never through this process: a benchmark's
 * children log under load, and reading that here would take CPU from what is measured.
 */
export class LoggedProcess extends Child {
  private constructor(
    name: string,
    proc: Subprocess,
    readonly logPath: string,
  ) {
    super(name, proc)
  }

  /** stdout and stderr are appended to `logPath`. */
  static start(name: string, cmd: string[], options: SpawnOptions & { logPath: string }): LoggedProcess {
    const fd = openSync(options.logPath, 'a')
    try {
      const proc = Bun.spawn(cmd, { cwd: options.cwd ?? ROOT, env: childEnv(options.env ?? {}), stdin: 'ignore', stdout: fd, stderr: fd })
      return new LoggedProcess(name, track(proc), options.logPath)
    } finally {
      closeSync(fd) // the child holds its own copy
    }
  }

  lastOutput(): string {
    return tail(this.logPath, 25)
  }
}

/** The last `lines` lines of a file. */
export function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** A child whose output is read here line by line, so a test can await what it logs. */
export class WatchedProcess extends Child<Subprocess<'ignore', 'pipe', 'pipe'>> {
  /** stdout. */
  readonly log: LineWatcher
  readonly stderr: LineWatcher

  private constructor(name: string, proc: Subprocess<'ignore', 'pipe', 'pipe'>, echo?: (line: string) => void) {
    super(name, proc)
    this.log = new LineWatcher(proc.stdout, echo)
    this.stderr = new LineWatcher(proc.stderr, echo)
  }

  /** `echo` sees every line of both streams as it arrives. */
  static start(name: string, cmd: string[], options: SpawnOptions & { echo?: (line: string) => void } = {}): WatchedProcess {
    const proc = Bun.spawn(cmd, { cwd: options.cwd ?? ROOT, env: childEnv(options.env ?? {}), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    return new WatchedProcess(name, track(proc), options.echo)
  }

  lastOutput(lines = 30): string {
    return `${this.log.tail(lines)}\n${this.stderr.tail(lines)}`
  }
}

/** Waits for a line on the child's stdout, failing fast (with its output) if it exits first. */
export async function awaitLine(child: WatchedProcess, text: string, ms: number, from = 0): Promise<string> {
  const exitedFirst = child.exited.then((code) => {
    throw new Error(`${child.name} exited (${code}) before logging ${text}:\n${child.lastOutput()}`)
  })
  try {
    return await withDeadline(Promise.race([child.log.next(text, from), exitedFirst]), ms, `${child.name} to log ${text}\n${child.lastOutput()}`)
  } finally {
    exitedFirst.catch(() => {})
  }
}

/** Rejects with the first death among `processes`; never resolves otherwise. */
export function anyDied(processes: ManagedProcess[]): Promise<never> {
  return Promise.race(processes.map((p) => p.died))
}

/** Reads a stream line by line; callers await lines containing a text, from a given position on. */
export class LineWatcher {
  readonly lines: string[] = []
  private waiters: { text: string; from: number; resolve(line: string): void; reject(error: Error): void }[] = []
  private ended = false
  readonly closed: Promise<void>

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly echo?: (line: string) => void,
  ) {
    this.closed = (async () => {
      let partial = ''
      const decoder = new TextDecoder()
      try {
        for await (const chunk of stream) {
          const parts = (partial + decoder.decode(chunk, { stream: true })).split('\n')
          partial = parts.pop()!
          for (const line of parts) this.add(line)
        }
      } catch {}
      if (partial) this.add(partial)
      this.ended = true
      for (const waiter of this.waiters.splice(0)) waiter.reject(this.endedWithout(waiter.text))
    })()
  }

  private endedWithout(text: string): Error {
    return new Error(`output ended without a line containing ${text}:\n${this.tail()}`)
  }

  private add(line: string) {
    this.echo?.(line)
    this.lines.push(line)
    const index = this.lines.length - 1
    for (const waiter of this.waiters.filter((w) => index >= w.from && line.includes(w.text))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  }

  /** Position to pass to `next` to wait only for lines still to come. */
  get position(): number {
    return this.lines.length
  }

  count(text: string, from = 0): number {
    let n = 0
    for (let i = from; i < this.lines.length; i++) if (this.lines[i]!.includes(text)) n++
    return n
  }

  seen(text: string, from = 0): boolean {
    return this.count(text, from) > 0
  }

  /** The first line at or after `from` that contains `text` (already seen or still to come). */
  next(text: string, from = 0): Promise<string> {
    for (let i = from; i < this.lines.length; i++) if (this.lines[i]!.includes(text)) return Promise.resolve(this.lines[i]!)
    if (this.ended) return Promise.reject(this.endedWithout(text))
    return new Promise((resolve, reject) => this.waiters.push({ text, from, resolve, reject }))
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join('\n')
  }
}

export interface Finished {
  code: number
  /** The signal that ended it, if one did (SIGKILL: it outlived its limit). */
  signal: string | null
  output: string
}

/** Runs a command to its end and returns its output; SIGKILL once it outlives `ms`. */
export async function runToEnd(cmd: string[], options: SpawnOptions & { ms?: number } = {}): Promise<Finished> {
  const proc = track(Bun.spawn(cmd, { cwd: options.cwd ?? ROOT, env: childEnv(options.env ?? {}), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const killer = setTimeout(() => proc.kill('SIGKILL'), options.ms ?? 60_000)
  try {
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    return { code, signal: proc.signalCode === null ? null : String(proc.signalCode), output: out + err }
  } finally {
    clearTimeout(killer)
  }
}

// ---------------------------------------------------------------------------------------------
// The product's processes

/** Run with the Bun that runs the caller. */
export const API_COMMAND = [process.execPath, 'server/index.ts']
export const WORKER_COMMAND = [process.execPath, 'worker/index.ts']

/** Where the API and the worker keep their data. */
export interface StackEnv {
  databaseUrl: string
  redis: RedisTarget
  queueName: string
}

function storesEnv(stack: StackEnv): Record<string, string> {
  const { url, clusterNodes } = stack.redis
  const cluster: Record<string, string> = clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes.map((node) => `${node.host}:${node.port}`).join(',') } : {}
  return { DATABASE_URL: stack.databaseUrl, REDIS_URL: url, ...cluster, QUEUE_NAME: stack.queueName }
}

/** The API's environment: listening on `port`, on the stack's stores. */
export function apiEnv(stack: StackEnv, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return { API_PORT: String(port), ...storesEnv(stack), ...extra }
}

/** The worker's environment, on the stack's stores. */
export function workerEnv(stack: StackEnv, extra: Record<string, string> = {}): Record<string, string> {
  // No metrics listener: several workers may run at once, and port 4001 may be anyone's.
  return { ...storesEnv(stack), WORKER_METRICS_PORT: '0', ...extra }
}
