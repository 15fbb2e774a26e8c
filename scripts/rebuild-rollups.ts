/**
 * `bun run rollups:rebuild [--site ID] [--from YYYY-MM-DD --to YYYY-MM-DD]`: recomputes rollups
 * from raw events, for one site or all, for a range of dates (widened to whole months) or all
 * time. Idempotent, and safe while ingestion runs: each site is rebuilt under its exclusive lock.
 */
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { createDb } from '../drizzle/client'
import { sites } from '../drizzle/schema'
import { createLogger, errorFields } from '../lib/log'
import { isCalendarDate } from '../server/formats'
import { RawEventsDroppedError, rebuildRollups } from '../worker/jobs/rebuild'
import { loadScriptsEnv } from './env'

const log = createLogger('rebuild')

function usage(message: string): never {
  console.error(`${message}\nusage: bun run rollups:rebuild [--site ID] [--from YYYY-MM-DD --to YYYY-MM-DD]`)
  process.exit(2)
}

const { values } = (() => {
  try {
    return parseArgs({ options: { site: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } }, strict: true })
  } catch (error) {
    return usage((error as Error).message)
  }
})()
if ((values.from === undefined) !== (values.to === undefined)) usage('--from and --to go together')
for (const date of [values.from, values.to]) if (date !== undefined && !isCalendarDate(date)) usage(`not a date: ${date}`)
if (values.from && values.to && values.from > values.to) usage('--from must not be after --to')
const range = values.from && values.to ? { from: values.from, to: values.to } : undefined

const database = createDb(loadScriptsEnv().databaseUrl, { max: 1 })
try {
  const ids = values.site
    ? [values.site]
    : (await database.db.execute<{ site_id: string }>(sql`select site_id from ${sites} order by site_id`)).map((row) => row.site_id)
  for (const siteId of ids) {
    const started = performance.now()
    try {
      const result = await rebuildRollups(database.db, siteId, range)
      log.info('rollups rebuilt', { ...result, ms: Math.round(performance.now() - started) })
    } catch (error) {
      // A site retention has taken raw events from keeps its rollups; the other sites are still rebuilt.
      if (!(error instanceof RawEventsDroppedError)) throw error
      log.error('rebuild refused', { siteId, reason: error.message })
      process.exitCode = 1
    }
  }
} catch (error) {
  log.error('rebuild failed', errorFields(error))
  process.exitCode = 1
} finally {
  await database.close()
}
