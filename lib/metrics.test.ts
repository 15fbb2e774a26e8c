import { expect, test } from 'bun:test'
import { Counter, Gauge, Histogram, Registry } from './metrics'

test('renders counters, gauges and histograms in the Prometheus text format', () => {
  const registry = new Registry()
  const counter = registry.register(new Counter('x_total', 'Things.'))
  const gauge = registry.register(new Gauge('y', 'Level.'))
  const histogram = registry.register(new Histogram('z_seconds', 'Time.', [0.1, 1]))
  counter.inc({ reason: 'a "quoted" one' })
  counter.inc({ reason: 'a "quoted" one' }, 2)
  gauge.set(7, { state: 'waiting' })
  histogram.observe(0.05)
  histogram.observe(0.5)
  histogram.observe(5)
  expect(registry.render()).toBe(
    [
      '# HELP x_total Things.',
      '# TYPE x_total counter',
      'x_total{reason="a \\"quoted\\" one"} 3',
      '# HELP y Level.',
      '# TYPE y gauge',
      'y{state="waiting"} 7',
      '# HELP z_seconds Time.',
      '# TYPE z_seconds histogram',
      'z_seconds_bucket{le="0.1"} 1',
      'z_seconds_bucket{le="1"} 2',
      'z_seconds_bucket{le="+Inf"} 3',
      'z_seconds_sum 5.55',
      'z_seconds_count 3',
      '',
    ].join('\n'),
  )
})
