import { fillPlaceholders, sql as sqlTag, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema'

export type Db = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql }

export interface Database {
  db: Db
  sql: postgres.Sql
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** Pool size; postgres.js opens connections lazily up to this many. */
  max?: number
  /** Seconds to wait for a connection before failing, so outages surface quickly. */
  connectTimeout?: number
  /** Milliseconds after which Postgres cancels a statement (none by default). */
  statementTimeoutMs?: number
}

export function createDb(url: string, options: DatabaseOptions = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 5,
    onnotice: () => {},
    // Short reporting queries over generate_series get huge row estimates, and JIT would then
    // spend ~500 ms compiling a query that runs in under one.
    // work_mem: a 30-day breakdown groups a busy site's visits per visitor (about 37 MB for 160,000
    // visits); at Postgres's default of 4 MB it spilled to disk and took twice as long (bench/RESULTS.md).
    connection: { jit: 'off', work_mem: '64MB', ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}) },
  })
  return { db: drizzle(sql, { schema }), sql, close: () => sql.end({ timeout: 5 }) }
}

const dialect = new PgDialect()

/** Runs statement text as a named prepared statement (see `prepared`). */
async function runPrepared<T>(db: Db, text: string, params: unknown[]): Promise<T[]> {
  return (await db.$client.unsafe(text, params as never[], { prepare: true })) as unknown as T[]
}

/**
 * Runs a query as a named prepared statement: Postgres parses and plans it once per connection
 * instead of on every request (drizzle's execute() does not prepare). For the read path, whose
 * statements are long but whose text never changes.
 */
export function prepared<T>(db: Db, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query)
  return runPrepared<T>(db, text, params)
}

/** A query's statement text and parameters, for what postgres.js does and drizzle cannot (a cursor). */
export function statementOf(query: SQL): { text: string; params: unknown[] } {
  const { sql: text, params } = dialect.sqlToQuery(query)
  return { text, params }
}

/**
 * Like `prepared`, for a statement whose text is built once, with `sql.placeholder`s that each
 * run fills: the hottest questions, where building a long text each time costs about as much
 * as Postgres takes to answer.
 */
export function preparedStatement<T>(query: SQL): (db: Db, values: Record<string, unknown>) => Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query)
  return (db, values) => runPrepared<T>(db, text, fillPlaceholders(params, values))
}

/**
 * A value as a JSON literal in the statement's text instead of a bind parameter. postgres.js
 * describes every unprepared statement that has parameters before it runs it: a second round
 * trip, and no statement can be pipelined behind it. A statement without parameters is sent in
 * one go, and several can be in flight at once inside a transaction. The dollar-quote tag is
 * chosen so that it does not occur in the text, so the text needs no escaping.
 */
export function jsonLiteral(value: unknown): SQL {
  const text = JSON.stringify(value)
  let tag = 'j'
  while (text.includes(`$${tag}$`)) tag += 'j'
  return sqlTag.raw(`$${tag}$${text}$${tag}$::json`)
}
