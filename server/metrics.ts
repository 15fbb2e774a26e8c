import { Elysia } from 'elysia'
import { Counter, Gauge, Histogram, Registry, SECONDS_BUCKETS, SIZE_BUCKETS } from '../lib/metrics'
import type { IngestQueue } from '../lib/queue'
import type { Access } from './access'
import type { LedgerRecorder } from './ingest/ledger'

export function createApiMetrics() {
  const registry = new Registry()
  return {
    registry,
    accepted: registry.register(new Counter('analytics_events_accepted_total', 'Events answered 202.')),
    refused: registry.register(new Counter('analytics_events_refused_total', 'Events refused, by reason.')),
    batchEvents: registry.register(new Histogram('analytics_ingest_batch_events', 'Events per job sent to Redis (group commit).', SIZE_BUCKETS)),
    enqueueSeconds: registry.register(new Histogram('analytics_enqueue_seconds', 'Time for Redis to acknowledge one job.', SECONDS_BUCKETS)),
    pendingEvents: registry.register(new Gauge('analytics_ingest_pending_events', 'Events in the API waiting for Redis to acknowledge them.')),
    pacedEvents: registry.register(new Gauge('analytics_ingest_paced_events', 'Events of requests held back while the queue backlog is over its pacing level.')),
    queueJobs: registry.register(new Gauge('analytics_queue_jobs', 'Jobs in the queue, by state.')),
  }
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>

/** The ledger, also counted in the metrics, so each accepted or refused event is recorded in one place. */
export function countedLedger(ledger: LedgerRecorder, metrics: ApiMetrics): LedgerRecorder {
  return {
    accepted(siteId, count) {
      metrics.accepted.inc({}, count)
      ledger.accepted(siteId, count)
    },
    refused(siteId, reasons, count = 1) {
      metrics.refused.inc({ reason: reasons[0] === 'rate limited' ? 'rate limited' : 'invalid' }, count)
      ledger.refused(siteId, reasons, count)
    },
    flush: () => ledger.flush(),
  }
}

export function metricsRoutes(deps: { metrics: ApiMetrics; queue: IngestQueue; ingest: () => { pendingItems: number; pacedEvents: number }; access: Access }) {
  return new Elysia({ name: 'metrics' }).use(deps.access.plugin).guard({ access: 'reader' }).get(
    '/metrics',
    async () => {
      const counts = await deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => undefined)
      for (const [state, value] of Object.entries(counts ?? {})) deps.metrics.queueJobs.set(value, { state })
      const ingest = deps.ingest()
      deps.metrics.pendingEvents.set(ingest.pendingItems)
      deps.metrics.pacedEvents.set(ingest.pacedEvents)
      return new Response(deps.metrics.registry.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } })
    },
    { detail: { summary: 'Prometheus metrics of this API process (the worker serves its own on WORKER_METRICS_PORT)', tags: ['ops'] } },
  )
}
