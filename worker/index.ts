import { createDb } from '../drizzle/client'
import { createLogger, errorFields } from '../lib/log'
import type { Registry } from '../lib/metrics'
import { checkPostgres, checkRedis } from '../lib/preflight'
import { loadWorkerEnv } from './env'
import { createWorkerConnection } from '../lib/queue'
import { onShutdown } from '../lib/shutdown'
import { schedulePrune } from './jobs/prune'
import { createWorkerMetrics } from './metrics'
import { createIngestWorker, createMaintenanceWorker } from './worker'

const log = createLogger('worker')

/** The worker's /metrics on 127.0.0.1; a port already taken (a second worker here) only costs the metrics. */
function serveMetrics(port: number, registry: Registry) {
  if (port === 0) return undefined
  try {
    return Bun.serve({
      port,
      hostname: '127.0.0.1',
      fetch: async (request) =>
        new URL(request.url).pathname === '/metrics'
          ? new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } })
          : new Response('not found', { status: 404 }),
    })
  } catch (error) {
    log.warn('worker metrics not served: set WORKER_METRICS_PORT to a free port, or 0', { port, ...errorFields(error) })
    return undefined
  }
}

try {
  const env = loadWorkerEnv()
  await Promise.all([checkPostgres(env.databaseUrl), checkRedis(env.redis)])

  const database = createDb(env.databaseUrl, { max: env.concurrency + 1 })
  const connection = createWorkerConnection(env.redis)
  const metrics = createWorkerMetrics()
  const metricsServer = serveMetrics(env.metricsPort, metrics.registry)
  const worker = createIngestWorker({
    metrics,
    connection,
    location: { name: env.queueName },
    db: database.db,
    prefetch: env.prefetch,
    writer: { transactions: env.concurrency, maxBatchEvents: env.batchEvents },
    log,
  })
  const maintenance = createMaintenanceWorker({ connection, location: { name: env.queueName }, db: database.db, log, rawRetentionDays: env.rawRetentionDays })
  await schedulePrune(maintenance.queue)
  log.info('worker started', { queue: env.queueName, transactions: env.concurrency, prefetchJobs: env.prefetch.jobs, prefetchEvents: env.prefetch.events })

  onShutdown(
    [
      // close() stops taking jobs and waits for the active ones, so no batch is cut mid-transaction.
      { name: 'ingest worker', close: () => worker.close() },
      { name: 'maintenance worker', close: () => maintenance.close() },
      { name: 'metrics server', close: () => metricsServer?.stop() },
      { name: 'connections', close: () => Promise.all([connection.quit().catch(() => {}), database.close()]) },
    ],
    { name: 'worker', log },
  )
} catch (error) {
  log.error('worker failed to start', errorFields(error))
  process.exit(1)
}
