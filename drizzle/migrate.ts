import { resolve } from 'node:path'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { redactUrl } from '../lib/config'
import { createDb } from './client'

export const migrationsFolder = resolve(import.meta.dir, 'migrations')

const INVALID_CATALOG_NAME = '3D000'
const INVALID_AUTHORIZATION = '28000'
const INVALID_PASSWORD = '28P01'

function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined
}

class WrongPasswordError extends Error {
  override name = 'WrongPasswordError'
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`

/**
 * Makes sure the role and database named in `url` exist. Only when they do not does it connect
 * with `adminUrl` (a superuser, e.g. the local `postgres` role) to create them, so a fresh machine
 * needs no manual SQL. The role it creates may log in and own its database, nothing more: the API
 * and the worker never hold superuser rights. Returns what it created.
 */
export async function ensureDatabase(url: string, adminUrl: string): Promise<{ createdRole: boolean; createdDatabase: boolean }> {
  const probe = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} })
  let missing: 'role' | 'database' | undefined
  let refused: Error | undefined
  try {
    await probe`select 1`
  } catch (error) {
    const code = pgErrorCode(error)
    if (code === INVALID_CATALOG_NAME) missing = 'database'
    else if (code === INVALID_AUTHORIZATION && /role .* does not exist/.test(String((error as Error).message))) missing = 'role'
    // Under password authentication Postgres answers a missing role as a wrong password (so
    // as not to reveal which roles exist); the admin connection tells the two apart below.
    else if (code === INVALID_PASSWORD) [missing, refused] = ['role', error as Error]
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
    if (role && refused) throw new WrongPasswordError(`${refused.message}: the role exists, and the password in ${redactUrl(url)} is not its password`)
    if (!role) {
      const withPassword = password ? ` password ${quoteLiteral(password)}` : ''
      // Spelled out although they are the defaults, so that no template or future default can
      // hand the application superuser, database- or role-creating rights.
      await admin.unsafe(`create role ${quoteIdent(user)} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls${withPassword}`)
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
    if (error instanceof WrongPasswordError) throw error
    if (refused) {
      throw new Error(
        `${refused.message} for ${redactUrl(url)}, and POSTGRES_ADMIN_URL (${redactUrl(adminUrl)}), which could create a missing role, ` +
          `failed too: ${(error as Error).message}. Check the password, or point POSTGRES_ADMIN_URL at a superuser.`,
      )
    }
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

/** Whether the role `url` logs in as is a superuser (which the application should never be). */
export async function connectsAsSuperuser(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    const [role] = await sql<{ rolsuper: boolean }[]>`select rolsuper from pg_roles where rolname = current_user`
    return role?.rolsuper ?? false
  } finally {
    await sql.end({ timeout: 1 })
  }
}
