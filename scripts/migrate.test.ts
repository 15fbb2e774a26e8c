/**
 * The database step of `bun run start` / `bun run db:migrate` (and of docker-compose's migrate
 * service): it creates the application's role without superuser rights, a database it owns, and
 * tables it owns, and the application then works as that role.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { createDb } from '../drizzle/client'
import { writeEventBatch } from '../worker/rollups/postgres'
import { PrivatePostgres } from '../tests/faults/harness'
import { testEnv, uniqueName } from '../tests/support'
import { prepareDatabase } from './migrate'

function appUrl(adminUrl: string, user: string, password: string, database: string): string {
  const url = new URL(adminUrl)
  url.username = user
  url.password = password
  url.pathname = `/${database}`
  return url.toString()
}

/** What the role may do, who owns the database, and who owns every table the migrations made. */
async function inspect(adminUrl: string, role: string, database: string) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  const databaseUrl = new URL(adminUrl)
  databaseUrl.pathname = `/${database}`
  const inDatabase = postgres(databaseUrl.toString(), { max: 1, onnotice: () => {} })
  try {
    const [rights] = await admin`select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin from pg_roles where rolname = ${role}`
    const [owner] = await admin`select pg_get_userbyid(datdba) as owner from pg_database where datname = ${database}`
    const tables = await inDatabase`select schemaname, tablename, tableowner from pg_tables where schemaname in ('public', 'drizzle')`
    return { rights, owner: owner?.owner, tables: [...tables] }
  } finally {
    await Promise.all([admin.end(), inDatabase.end()])
  }
}

async function dropAll(adminUrl: string, role: string, database: string) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`drop database if exists "${database}" with (force)`)
    await admin.unsafe(`drop role if exists "${role}"`)
  } finally {
    await admin.end()
  }
}

async function expectWorkingAsApplication(url: string) {
  const database = createDb(url, { max: 1 })
  try {
    const at = new Date().toISOString()
    const written = await writeEventBatch(database.db, [{ eventId: 'e1', siteId: 'site', eventType: 'page_view', path: '/', userId: 'u1', timestamp: at, receivedAt: at }])
    expect(written.inserted).toBe(1)
  } finally {
    await database.close()
  }
}

const expectedRights = { rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, rolcanlogin: true }

describe('preparing the database on the local server', () => {
  const role = uniqueName('app_role')
  const database = uniqueName('app_db')
  afterAll(() => dropAll(testEnv.adminDatabaseUrl, role, database))

  test('creates a login role without superuser rights that owns its database and every table', async () => {
    const url = appUrl(testEnv.adminDatabaseUrl, role, 'app-pw', database)
    await prepareDatabase(url, testEnv.adminDatabaseUrl)
    const state = await inspect(testEnv.adminDatabaseUrl, role, database)
    expect(state.rights).toEqual(expectedRights)
    expect(state.owner).toBe(role)
    expect(state.tables.length).toBeGreaterThan(5)
    for (const table of state.tables) expect(`${table.schemaname}.${table.tablename} ${table.tableowner}`).toBe(`${table.schemaname}.${table.tablename} ${role}`)
    await expectWorkingAsApplication(url)
    // A second run (every start does one) changes nothing and still works as that role.
    await prepareDatabase(url, testEnv.adminDatabaseUrl)
  })
})

describe('preparing the database behind password authentication, as in docker-compose', () => {
  let pg: PrivatePostgres
  const role = 'analytics_user'
  const database = 'analytics'
  beforeAll(async () => {
    pg = await PrivatePostgres.create({ superuserPassword: 'admin-secret' })
  }, 120_000)
  afterAll(() => pg?.destroy())

  test('tells a missing role (refused like a wrong password) from a wrong password', async () => {
    const url = appUrl(pg.url(), role, 'app-secret', database)
    await prepareDatabase(url, pg.url())
    const state = await inspect(pg.url(), role, database)
    expect(state.rights).toEqual(expectedRights)
    expect(state.owner).toBe(role)
    for (const table of state.tables) expect(table.tableowner).toBe(role)
    await expectWorkingAsApplication(url)

    const wrong = appUrl(pg.url(), role, 'not-the-password', database)
    const error = await prepareDatabase(wrong, pg.url()).then(() => undefined, (e: Error) => e)
    expect(error?.message).toContain('the role exists, and the password in')
    expect(error?.message).not.toContain('not-the-password')
    expect(error?.message).not.toContain('admin-secret')

    // Without a working admin URL the refusal is reported as it is, without either password.
    const noAdmin = await prepareDatabase(appUrl(pg.url(), 'other_role', 'x-secret', database), appUrl(pg.url(), 'postgres', 'bad-admin', 'postgres')).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(noAdmin?.message).toContain('POSTGRES_ADMIN_URL')
    expect(noAdmin?.message).not.toContain('x-secret')
    expect(noAdmin?.message).not.toContain('bad-admin')
  }, 60_000)
})
