import { createDb } from '../drizzle/client'
import { createLogger, errorFields } from '../lib/log'
import { checkPostgres, checkRedis } from '../lib/preflight'
import { createIngestQueue, createMaintenanceQueue, createProducerConnection } from '../lib/queue'
import { onShutdown } from '../lib/shutdown'
import { loadAdminPassword } from './admin-password'
import { createApp } from './app'
import { STATEMENT_TIMEOUT_MS } from './errors'
import { loadServerEnv } from './env'

const log = createLogger('api')

/** A URL a browser on this machine can open: a wildcard address is reached through localhost. */
function listenUrl(host: string, port: number | undefined): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return `http://${shown}:${port}`
}

try {
  const env = loadServerEnv()
  await Promise.all([
    checkPostgres(env.databaseUrl),
    ...(env.statsDatabaseUrl ? [checkPostgres(env.statsDatabaseUrl, { replica: true })] : []),
    checkRedis(env.redis),
  ])
  // After the checks: a start that cannot serve leaves no password file behind.
  const admin = loadAdminPassword(env.adminPassword, env.adminPasswordFile)
  // Only where the password is kept is logged, never the password: logs travel further than files.
  if (admin.source === 'created')
    log.info(`admin password generated and stored in ${env.adminPasswordFile}; set ADMIN_PASSWORD to choose one`, { user: env.adminUser })
  else if (admin.source === 'file') log.info(`admin password read from ${env.adminPasswordFile}; set ADMIN_PASSWORD to choose one`, { user: env.adminUser })

  // Questions counted at query time (goals, funnels, filters) can run long on busy sites: none may
  // hold a connection past this, so a burst of them cannot starve the pool.
  const database = createDb(env.databaseUrl, { statementTimeoutMs: STATEMENT_TIMEOUT_MS })
  const reads = env.statsDatabaseUrl ? createDb(env.statsDatabaseUrl, { statementTimeoutMs: STATEMENT_TIMEOUT_MS }) : undefined
  const redis = createProducerConnection(env.redis)
  redis.on('error', (error) => log.error('redis connection error', errorFields(error)))
  const queue = createIngestQueue(redis, { name: env.queueName })
  queue.on('error', (error) => log.error('queue error', errorFields(error)))
  const maintenanceQueue = createMaintenanceQueue(redis, { name: env.queueName })
  maintenanceQueue.on('error', (error) => log.error('queue error', errorFields(error)))
  // Ingestion refuses events while Redis is not connected; connect before taking requests.
  await queue.waitUntilReady()

  const { app, shutdown } = await createApp({
    database,
    reads,
    redis,
    queue,
    maintenanceQueue,
    access: {
      user: env.adminUser,
      password: admin.password,
      statsApiKey: env.statsApiKey,
      loopbackReads: env.loopbackReads,
      behindProxy: env.proxy.trustProxy,
      loginGuesses: env.loginGuesses,
    },
    proxy: env.proxy,
    dashboardDir: env.dashboardDir,
    ingestLimits: env.ingestLimits,
    rateLimits: env.rateLimits,
    countryHeader: env.countryHeader,
    log,
  })
  // Elysia turns Bun's development mode (an HTML page of source and stack for an uncaught error) on unless NODE_ENV=production.
  app.listen({ hostname: env.host, port: env.port, reusePort: env.reusePort, development: false })
  log.info('api listening', { url: listenUrl(env.host, app.server?.port), queue: env.queueName, mode: env.mode, statsReads: reads ? 'replica' : 'primary' })

  onShutdown(
    [
      // Stop accepting connections, let in-flight requests finish, then release the clients.
      { name: 'http server', close: shutdown },
      { name: 'queues', close: () => Promise.all([queue.close(), maintenanceQueue.close()]) },
      { name: 'connections', close: () => Promise.all([redis.quit().catch(() => {}), database.close(), reads?.close()]) },
    ],
    { name: 'api', log },
  )
} catch (error) {
  log.error('api failed to start', errorFields(error))
  process.exit(1)
}
