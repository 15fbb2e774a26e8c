import { Counter, Histogram, Registry, SECONDS_BUCKETS } from '../lib/metrics'

export function createWorkerMetrics() {
  const registry = new Registry()
  return {
    registry,
    written: registry.register(new Counter('analytics_events_written_total', 'Events inserted into Postgres.')),
    duplicates: registry.register(new Counter('analytics_events_duplicates_total', 'Events skipped because their (site_id, event_id) was already stored.')),
    jobs: registry.register(new Counter('analytics_jobs_total', 'Jobs processed, by kind and outcome.')),
    writeSeconds: registry.register(new Histogram('analytics_db_write_seconds', 'Time to write one batch (insert, rollups, ledger) and commit.', SECONDS_BUCKETS)),
    lagSeconds: registry.register(
      new Histogram('analytics_accept_to_commit_seconds', 'From the API receiving an event to its row being committed.', [...SECONDS_BUCKETS, 30, 60, 300]),
    ),
  }
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>
