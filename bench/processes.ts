/**
 * What the benchmark measures about its processes: peak RSS, CPU time per process group, and
 * log lines of a kind. Starting and stopping them is tests/kit/processes.ts's.
 */
import { readdirSync, readFileSync } from 'node:fs'

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

/** Resident set size in bytes, from /proc/<pid>/status; undefined once the process is gone. */
function rssBytes(pid: number): number | undefined {
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
