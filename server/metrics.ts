import { Elysia } from 'elysia'
import { Counter, createRegistry, Gauge, Histogram, SECONDS_BUCKETS, SIZE_BUCKETS } from '../lib/metrics'
import type { IngestQueue } from '../lib/queue'
import type { Access } from './access'
import type { LedgerRecorder } from './ingest/ledger'

export function createApiMetrics() {
  const registers = [createRegistry()]
  return {
    registry: registers[0]!,
    accepted: new Counter({ name: 'analytics_events_accepted_total', help: 'Events answered 202.', registers }),
    refused: new Counter({ name: 'analytics_events_refused_total', help: 'Events refused, by reason.', labelNames: ['reason'] as const, registers }),
    batchEvents: new Histogram({
      name: 'analytics_ingest_batch_events',
      help: 'Events per job sent to Redis (group commit).',
      buckets: SIZE_BUCKETS,
      registers,
    }),
    enqueueSeconds: new Histogram({ name: 'analytics_enqueue_seconds', help: 'Time for Redis to acknowledge one job.', buckets: SECONDS_BUCKETS, registers }),
    pendingEvents: new Gauge({ name: 'analytics_ingest_pending_events', help: 'Events in the API waiting for Redis to acknowledge them.', registers }),
    pacedEvents: new Gauge({
      name: 'analytics_ingest_paced_events',
      help: 'Events of requests held back while the queue backlog is over its pacing level.',
      registers,
    }),
    queueJobs: new Gauge({ name: 'analytics_queue_jobs', help: 'Jobs in the queue, by state.', labelNames: ['state'] as const, registers }),
  }
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>

/** The ledger, also counted in the metrics, so each accepted or refused event is recorded in one place. */
export function countedLedger(ledger: LedgerRecorder, metrics: ApiMetrics): LedgerRecorder {
  return {
    accepted(siteId, count) {
      metrics.accepted.inc(count)
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
  return new Elysia({ name: 'metrics' })
    .use(deps.access.plugin)
    .guard({ access: 'ops' })
    .get(
      '/metrics',
      async () => {
        const counts = await deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => undefined)
        for (const [state, value] of Object.entries(counts ?? {})) deps.metrics.queueJobs.set({ state }, value)
        const ingest = deps.ingest()
        deps.metrics.pendingEvents.set(ingest.pendingItems)
        deps.metrics.pacedEvents.set(ingest.pacedEvents)
        return new Response(await deps.metrics.registry.metrics(), { headers: { 'content-type': deps.metrics.registry.contentType } })
      },
      { detail: { summary: 'Prometheus metrics of this API process (the worker serves its own on WORKER_METRICS_PORT)', tags: ['ops'] } },
    )
}
