import { Counter, createRegistry, Histogram, SECONDS_BUCKETS } from '../lib/metrics'

export function createWorkerMetrics() {
  const registers = [createRegistry()]
  return {
    registry: registers[0]!,
    written: new Counter({ name: 'analytics_events_written_total', help: 'Events inserted into Postgres.', registers }),
    duplicates: new Counter({
      name: 'analytics_events_duplicates_total',
      help: 'Events skipped because their (site_id, event_id) was already stored.',
      registers,
    }),
    jobs: new Counter({ name: 'analytics_jobs_total', help: 'Jobs processed, by kind and outcome.', labelNames: ['kind', 'outcome'] as const, registers }),
    writeSeconds: new Histogram({
      name: 'analytics_db_write_seconds',
      help: 'Time to write one batch (insert, rollups, ledger) and commit.',
      buckets: SECONDS_BUCKETS,
      registers,
    }),
    lagSeconds: new Histogram({
      name: 'analytics_accept_to_commit_seconds',
      help: 'From the API receiving an event to its row being committed.',
      buckets: [...SECONDS_BUCKETS, 30, 60, 300],
      registers,
    }),
  }
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>
