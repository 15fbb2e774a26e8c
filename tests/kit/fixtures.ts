/**
 * The stores a test or a benchmark owns, shared by both: a database of its own (created migrated,
 * dropped at the end) and the Redis keys of its own queue.
 */
import { Cluster } from 'ioredis'
import postgres from 'postgres'
import { migrateDatabase } from '../../drizzle/migrate'
import type { RedisTarget } from '../../lib/config'
import { createIngestQueue, createMaintenanceQueue, createProducerConnection, type RedisConnection } from '../../lib/queue'

/** A name no other run uses, fit for a database or a queue. */
export function uniqueName(label: string): string {
  return `${label}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')
}

/** The URL of database `name` on the server `adminUrl` points at. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

async function asAdmin(adminUrl: string, statement: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    await admin.unsafe(statement)
  } finally {
    await admin.end({ timeout: 5 })
  }
}

/** Drops database `name` if it exists, disconnecting anyone left on it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await asAdmin(adminUrl, `drop database if exists ${quoteIdent(name)} with (force)`)
}

/** Database `name`, empty and migrated (one of that name is dropped first); returns its URL. */
export async function createMigratedDatabase(adminUrl: string, name: string): Promise<string> {
  await dropDatabase(adminUrl, name)
  await asAdmin(adminUrl, `create database ${quoteIdent(name)}`)
  const url = databaseUrl(adminUrl, name)
  await migrateDatabase(url)
  return url
}

/** Keys matching `pattern`, a batch at a time (SCAN, so a large keyspace never blocks Redis); on a cluster, each master's in turn. */
export async function* scanKeys(redis: RedisConnection, pattern: string): AsyncIterable<string[]> {
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) yield* node.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>
}

/** Deletes the keys `pattern` matches; returns how many. */
export async function deleteKeys(redis: RedisConnection, pattern: string): Promise<number> {
  let deleted = 0
  for await (const keys of scanKeys(redis, pattern)) {
    if (keys.length === 0) continue
    // A cluster refuses one command on keys of several hash slots.
    deleted += redis instanceof Cluster ? (await Promise.all(keys.map((key) => redis.unlink(key)))).reduce((sum, n) => sum + n, 0) : await redis.unlink(...keys)
  }
  return deleted
}

/** Removes a queue run's keys: the ingest queue's and those of the maintenance queue a worker process schedules pruning on. */
export async function obliterateQueues(redisTarget: RedisTarget, name: string): Promise<void> {
  const redis = createProducerConnection(redisTarget)
  try {
    for (const queue of [createIngestQueue(redis, { name }), createMaintenanceQueue(redis, { name })]) {
      await queue.obliterate({ force: true })
      await queue.close()
    }
  } finally {
    await redis.quit()
  }
}
