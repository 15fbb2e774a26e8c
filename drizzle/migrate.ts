import { resolve } from 'node:path'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { redactUrl } from '../lib/config'
import { createDb } from './client'

export const migrationsFolder = resolve(import.meta.dir, 'migrations')

const INVALID_CATALOG_NAME = '3D000'
const INVALID_AUTHORIZATION = '28000'

function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`

/**
 * Makes sure the role and database named in `url` exist. Only when they do not does it connect
 * with `adminUrl` (a superuser, e.g. the local `postgres` role) to create them, so a fresh machine
 * needs no manual SQL. Returns what it created.
 */
export async function ensureDatabase(url: string, adminUrl: string): Promise<{ createdRole: boolean; createdDatabase: boolean }> {
  const probe = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} })
  let missing: 'role' | 'database' | undefined
  try {
    await probe`select 1`
  } catch (error) {
    const code = pgErrorCode(error)
    if (code === INVALID_CATALOG_NAME) missing = 'database'
    else if (code === INVALID_AUTHORIZATION && /role .* does not exist/.test(String((error as Error).message))) missing = 'role'
    else throw error
  } finally {
    await probe.end({ timeout: 1 })
  }
  if (!missing) return { createdRole: false, createdDatabase: false }

  const target = new URL(url)
  const user = decodeURIComponent(target.username)
  const password = decodeURIComponent(target.password)
  const database = decodeURIComponent(target.pathname.slice(1))
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    let createdRole = false
    const [role] = await admin`select 1 from pg_roles where rolname = ${user}`
    if (!role) {
      const withPassword = password ? ` password ${quoteLiteral(password)}` : ''
      await admin.unsafe(`create role ${quoteIdent(user)} login${withPassword}`)
      createdRole = true
    }
    let createdDatabase = false
    const [db] = await admin`select 1 from pg_database where datname = ${database}`
    if (!db) {
      await admin.unsafe(`create database ${quoteIdent(database)} owner ${quoteIdent(user)}`)
      createdDatabase = true
    }
    return { createdRole, createdDatabase }
  } catch (error) {
    throw new Error(
      `The ${missing} for ${redactUrl(url)} does not exist and could not be created through POSTGRES_ADMIN_URL ` +
        `(${redactUrl(adminUrl)}): ${(error as Error).message}. Create it by hand or point POSTGRES_ADMIN_URL at a superuser.`,
    )
  } finally {
    await admin.end({ timeout: 1 })
  }
}

/** Applies the committed drizzle-kit migrations; safe to run on every start. */
export async function migrateDatabase(url: string): Promise<void> {
  const database = createDb(url, { max: 1 })
  try {
    await migrate(database.db, { migrationsFolder })
  } finally {
    await database.close()
  }
}
