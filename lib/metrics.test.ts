import { expect, test } from 'bun:test'
import { Counter, createRegistry } from './metrics'

test('a process registry renders its metrics and the default process metrics in the Prometheus text format', async () => {
  const registry = createRegistry()
  const counter = new Counter({ name: 'x_total', help: 'Things.', labelNames: ['reason'], registers: [registry] })
  counter.inc({ reason: 'a "quoted" one' })
  counter.inc({ reason: 'a "quoted" one' }, 2)
  const text = await registry.metrics()
  expect(text).toContain('# TYPE x_total counter\nx_total{reason="a \\"quoted\\" one"} 3')
  expect(text).toContain('# TYPE process_cpu_seconds_total counter')
  expect(text).toContain('process_resident_memory_bytes')
  // Registries are per process object, not global: a second one starts empty of x_total.
  expect(await createRegistry().metrics()).not.toContain('x_total')
})
