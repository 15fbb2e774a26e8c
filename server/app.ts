import { Elysia } from 'elysia'
import type IORedis from 'ioredis'
import type { Database } from '../drizzle/client'
import type { Logger } from '../lib/log'
import type { IngestQueue } from '../worker/queues'
import { adminRoutes, type AdminCredentials } from './admin/board'
import { dashboardRoutes } from './dashboard'
import { errorHandler } from './errors'
import { registerFormats } from './formats'
import { healthRoutes } from './health/routes'
import { createQueueEnqueue } from './ingest/queue'
import { ingestRoutes } from './ingest/routes'
import { statsRoutes } from './stats/routes'

export interface AppDeps {
  database: Database
  redis: IORedis
  queue: IngestQueue
  admin: AdminCredentials
  dashboardDir: string
  log: Logger
}

export async function createApp(deps: AppDeps) {
  registerFormats()
  // Unknown body fields must reach validation (and be refused), not be silently stripped.
  return new Elysia({ normalize: false })
    .use(errorHandler(deps.log))
    .use(healthRoutes({ redis: deps.redis, sql: deps.database.sql }))
    .use(ingestRoutes({ enqueue: createQueueEnqueue(deps.queue, deps.log) }))
    .use(statsRoutes({ db: deps.database.db }))
    .use(await adminRoutes({ queues: [deps.queue], credentials: deps.admin }))
    .use(dashboardRoutes({ distDir: deps.dashboardDir }))
}

export type App = Awaited<ReturnType<typeof createApp>>
