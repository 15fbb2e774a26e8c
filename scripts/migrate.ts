/** `bun run db:migrate`: creates the role and database if missing, then applies migrations. */
import { connectsAsSuperuser, ensureDatabase, migrateDatabase } from '../drizzle/migrate'
import { redactUrl } from '../lib/config'
import { createLogger, errorFields } from '../lib/log'
import { checkPostgres } from '../lib/preflight'
import { loadScriptsEnv } from './env'

const log = createLogger('migrate')

export async function prepareDatabase(databaseUrl: string, adminDatabaseUrl: string): Promise<void> {
  await checkPostgres(databaseUrl, { allowMissingDatabase: true })
  const created = await ensureDatabase(databaseUrl, adminDatabaseUrl)
  if (created.createdRole || created.createdDatabase) log.info('database created', { url: redactUrl(databaseUrl), ...created })
  await migrateDatabase(databaseUrl)
  log.info('migrations applied', { url: redactUrl(databaseUrl) })
  // A role made by an older docker-compose (the postgres image's POSTGRES_USER) is a superuser.
  if (await connectsAsSuperuser(databaseUrl)) {
    log.warn('the application connects as a superuser; give it a role that owns only its database', {
      url: redactUrl(databaseUrl),
      fix: 'ALTER ROLE <role> NOSUPERUSER NOCREATEDB NOCREATEROLE (as another superuser)',
    })
  }
}

if (import.meta.main) {
  try {
    const env = loadScriptsEnv()
    await prepareDatabase(env.databaseUrl, env.adminDatabaseUrl)
  } catch (error) {
    log.error('migration failed', errorFields(error))
    process.exit(1)
  }
}
