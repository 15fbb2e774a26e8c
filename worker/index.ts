import { createDb } from '../drizzle/client'
import { createLogger, errorFields } from '../lib/log'
import { checkPostgres, checkRedis } from '../lib/preflight'
import { loadWorkerEnv } from './env'
import { createWorkerConnection } from './queues'
import { createIngestWorker } from './worker'

const log = createLogger('worker')

try {
  const env = loadWorkerEnv()
  await Promise.all([checkPostgres(env.databaseUrl), checkRedis(env.redisUrl)])

  const database = createDb(env.databaseUrl, { max: env.concurrency + 1 })
  const connection = createWorkerConnection(env.redisUrl)
  const worker = createIngestWorker({
    connection,
    location: { name: env.queueName },
    db: database.db,
    concurrency: env.concurrency,
    log,
  })
  log.info('worker started', { queue: env.queueName, concurrency: env.concurrency })

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('worker stopping', { signal })
    // close() stops taking jobs and waits for the active ones, so no batch is cut mid-transaction.
    await worker.close()
    await Promise.all([connection.quit().catch(() => {}), database.close()])
    log.info('worker stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
} catch (error) {
  log.error('worker failed to start', errorFields(error))
  process.exit(1)
}
