import { Elysia } from 'elysia'
import type { Database } from '../drizzle/client'
import type { Logger } from '../lib/log'
import type { IngestQueue, MaintenanceQueue, RedisConnection } from '../lib/queue'
import { adminRoutes } from './admin/board'
import { accountRoutes, usersRoutes } from './accounts/routes'
import { syncConfiguredAdmin } from './accounts/store'
import { shareRoutes, siteTokensRoutes } from './sharing/routes'
import { accessControl, type AccessConfig } from './access'
import { authRoutes } from './auth/routes'
import { createSessionStore } from './auth/session'
import { clientAddressOf, type ProxyTrust } from './client-address'
import { dashboardRoutes } from './dashboard'
import { errorHandler } from './errors'
import { exportRoutes } from './export/routes'
import { registerFormats } from './formats'
import { healthRoutes } from './health/routes'
import { MAX_REQUEST_BODY_BYTES } from './http'
import { openapiRoutes } from './openapi'
import { createLedgerRecorder } from './ingest/ledger'
import { createIngestPipeline, type IngestLimits } from './ingest/queue'
import { ingestRoutes, type IngestRateLimits } from './ingest/routes'
import { createVisitorIds } from './ingest/visitors'
import { createCountryLookup } from './ingest/enrich/country'
import { funnelsRoutes, goalsRoutes } from './goals/routes'
import { sitesRoutes } from './sites/routes'
import { sharedLimiters } from './shared-rate-limit'
import { countedLedger, createApiMetrics, metricsRoutes } from './metrics'
import { createZoneCheck } from './stats/question'
import { statsRoutes } from './stats/routes'
import { trackerRoutes } from './tracker/routes'

export interface AppDeps {
  /** The primary: every write, the ingestion ledger, accounts, sessions, shared links and API keys. */
  database: Database
  /**
   * STATS_DATABASE_URL's pool, a streaming replica: stats, site lists, goal and funnel lists and
   * exports read from it (they may trail ingestion by the replica's lag). Unset: the primary.
   */
  reads?: Database
  redis: RedisConnection
  queue: IngestQueue
  /** The worker's scheduled upkeep, shown in Bull Board beside the ingest queue. */
  maintenanceQueue: MaintenanceQueue
  ingestLimits: IngestLimits
  rateLimits: IngestRateLimits
  access: AccessConfig
  proxy: ProxyTrust
  dashboardDir: string
  /** A header a proxy or CDN sets to the visitor's country (COUNTRY_HEADER), or null. */
  countryHeader?: string | null
  log: Logger
}

// The address database is read once per process, however many apps it builds (tests build many).
let countries: ReturnType<typeof createCountryLookup> | undefined

export async function createApp(deps: AppDeps) {
  registerFormats()
  const metrics = createApiMetrics()
  // One cache of the timezone names Postgres knows, for the stats and the site settings.
  const checkZone = createZoneCheck(deps.database.db)
  const reads = (deps.reads ?? deps.database).db
  const pipeline = createIngestPipeline({ queue: deps.queue, redis: deps.redis, limits: deps.ingestLimits, log: deps.log, metrics })
  const ledger = countedLedger(createLedgerRecorder(deps.database.db, deps.log), metrics)
  const sessions = createSessionStore(deps.database.db)
  await syncConfiguredAdmin(deps.database.db, deps.access)
  const clientAddress = clientAddressOf(deps.proxy)
  // Each route group below declares its own rule with this plugin's `access` macro.
  // Rate limits and sign-in budgets are kept in Redis beside the queue, so N API processes allow
  // what one would, not N times it.
  const limiters = sharedLimiters(deps.redis, deps.queue.toKey('rate'), deps.log)
  const access = accessControl({ config: deps.access, limiterOf: limiters.of, db: deps.database.db, sessions, clientAddress })
  // normalize off: unknown body fields must reach validation (and be refused), not be silently
  // stripped. maxRequestBodySize: Bun's own bound on any body (its default is 128 MiB); each route
  // reads its body within its own, smaller limit.
  const app = new Elysia({ normalize: false, serve: { maxRequestBodySize: MAX_REQUEST_BODY_BYTES } })
    .use(errorHandler(deps.log))
    .use(openapiRoutes({ access }))
    .use(authRoutes({ access, sessions }))
    .use(accountRoutes({ db: deps.database.db, access }))
    .use(usersRoutes({ db: deps.database.db, access }))
    .use(shareRoutes({ db: deps.database.db, access, sessions }))
    .use(metricsRoutes({ metrics, queue: deps.queue, ingest: () => pipeline.state(), access }))
    .use(healthRoutes({ redis: deps.redis, queue: deps.queue, sql: deps.database.sql, replica: deps.reads?.sql, access }))
    .use(
      ingestRoutes({
        access,
        clientAddress,
        rateLimits: deps.rateLimits,
        limiterOf: limiters.of,
        enqueue: pipeline.enqueue,
        ledger,
        db: deps.database.db,
        queue: deps.queue,
        visitorIdOf: createVisitorIds(deps.redis, deps.queue.toKey('visitor-salt')),
        countryOf: await (countries ??= createCountryLookup()),
        countryHeader: deps.countryHeader ?? null,
      }),
    )
    .use(statsRoutes({ reads, checkZone, access }))
    .use(sitesRoutes({ db: deps.database.db, reads, queue: deps.queue, checkZone, access }))
    .use(goalsRoutes({ db: deps.database.db, reads, access }))
    .use(funnelsRoutes({ db: deps.database.db, reads, access }))
    .use(siteTokensRoutes({ db: deps.database.db, access }))
    .use(exportRoutes({ reads, access, log: deps.log }))
    .use(trackerRoutes({ access }))
    .use(await adminRoutes({ queues: [deps.queue, deps.maintenanceQueue], access }))
    .use(dashboardRoutes({ distDir: deps.dashboardDir, access }))

  /** Sends batches still in flight and writes the buffered ledger counts. */
  const flush = async () => {
    await pipeline.drain()
    await ledger.flush()
  }
  return {
    app,
    flush,
    /** Stops taking requests, lets those in flight finish, then flushes. (Elysia's onStop hooks are not awaited.) */
    async shutdown() {
      await app.stop()
      await flush()
      await limiters.close()
    },
  }
}

export type App = Awaited<ReturnType<typeof createApp>>['app']
