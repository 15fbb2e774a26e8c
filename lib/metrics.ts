/**
 * A minimal Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format. Each process exposes its own.
 */
type Labels = Record<string, string>

const labelKey = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
    .join(',')

const withLabels = (name: string, key: string, extra = '') => {
  const all = [key, extra].filter(Boolean).join(',')
  return all ? `${name}{${all}}` : name
}

interface Metric {
  render(): string[]
}

export class Counter implements Metric {
  private values = new Map<string, number>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const key = labelKey(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }
  render() {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values].map(([key, v]) => `${withLabels(this.name, key)} ${v}`)]
  }
}

export class Gauge implements Metric {
  private values = new Map<string, number>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels: Labels = {}) {
    this.values.set(labelKey(labels), value)
  }
  render() {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...[...this.values].map(([key, v]) => `${withLabels(this.name, key)} ${v}`)]
  }
}

export class Histogram implements Metric {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}
  observe(value: number, labels: Labels = {}) {
    const key = labelKey(labels)
    let s = this.series.get(key)
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(key, s)
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]! += 1
    s.sum += value
    s.count += 1
  }
  render() {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const [key, s] of this.series) {
      this.buckets.forEach((le, i) => lines.push(`${withLabels(`${this.name}_bucket`, key, `le="${le}"`)} ${s.counts[i]}`))
      lines.push(`${withLabels(`${this.name}_bucket`, key, 'le="+Inf"')} ${s.count}`)
      lines.push(`${withLabels(`${this.name}_sum`, key)} ${s.sum}`, `${withLabels(`${this.name}_count`, key)} ${s.count}`)
    }
    return lines
  }
}

export class Registry {
  private metrics: Metric[] = []
  register<T extends Metric>(metric: T): T {
    this.metrics.push(metric)
    return metric
  }
  render(): string {
    return `${this.metrics.flatMap((metric) => metric.render()).join('\n')}\n`
  }
}

export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
export const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]
