import { createDb } from '../drizzle/client'
import { createLogger, errorFields } from '../lib/log'
import { checkPostgres, checkRedis } from '../lib/preflight'
import { createIngestQueue, createProducerConnection } from '../lib/queue'
import { onShutdown } from '../lib/shutdown'
import { createApp } from './app'
import { loadServerEnv } from './env'

const log = createLogger('api')

try {
  const env = loadServerEnv()
  await Promise.all([checkPostgres(env.databaseUrl), checkRedis(env.redisUrl)])

  const database = createDb(env.databaseUrl)
  const redis = createProducerConnection(env.redisUrl)
  redis.on('error', (error) => log.error('redis connection error', errorFields(error)))
  const queue = createIngestQueue(redis, { name: env.queueName })
  queue.on('error', (error) => log.error('queue error', errorFields(error)))
  // Ingestion refuses events while Redis is not connected; connect before taking requests.
  await queue.waitUntilReady()

  const { app, shutdown } = await createApp({
    database,
    redis,
    queue,
    access: { user: env.adminUser, password: env.adminPassword, statsApiKey: env.statsApiKey, loopbackReads: env.loopbackReads, behindProxy: env.proxy.trustProxy, loginGuesses: env.loginGuesses },
    proxy: env.proxy,
    dashboardDir: env.dashboardDir,
    ingestLimits: env.ingestLimits,
    rateLimits: env.rateLimits,
    log,
  })
  app.listen(env.port)
  log.info('api listening', { url: `http://localhost:${app.server?.port}`, queue: env.queueName })
  if (env.adminPasswordGenerated) {
    // Printed once, to the console only: set ADMIN_PASSWORD to choose a lasting one.
    console.log(
      `Dashboard http://localhost:${app.server?.port}/ and Bull Board /admin/queues: user "${env.adminUser}", generated password "${env.adminPassword}" (set ADMIN_PASSWORD to choose one)`,
    )
  }

  onShutdown(
    [
      // Stop accepting connections, let in-flight requests finish, then release the clients.
      { name: 'http server', close: shutdown },
      { name: 'queue', close: () => queue.close() },
      { name: 'connections', close: () => Promise.all([redis.quit().catch(() => {}), database.close()]) },
    ],
    { name: 'api', log },
  )
} catch (error) {
  log.error('api failed to start', errorFields(error))
  process.exit(1)
}
