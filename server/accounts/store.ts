import { createHash } from 'node:crypto'
import { and, asc, eq, sql } from 'drizzle-orm'
import type { Db } from '../../drizzle/client'
import { sessions, siteTokens, users, userSites } from '../../drizzle/schema'
import { randomToken, tokenHash } from '../auth/session'

export type Role = 'admin' | 'viewer'

export interface Account {
  user_id: string
  username: string
  role: Role
  /** The sites a viewer reads, sorted; admins read every site and list none. */
  sites: string[]
  disabled: boolean
  must_change_password: boolean
  created_at: string
}

/** argon2id, Bun's default cost (64 MiB, 2 passes). */
export const hashPassword = (password: string) => Bun.password.hash(password, { algorithm: 'argon2id' })

/**
 * Checks passwords against stored hashes, remembering the pairs that matched: HTTP Basic sends the
 * password with every request, and argon2id is meant to be too slow to run on each. Keyed by the
 * stored hash, so a changed password never matches a remembered pair.
 */
export function createPasswordCheck(remembered = 1_000) {
  const matched = new Set<string>()
  return async (password: string, stored: string): Promise<boolean> => {
    const key = createHash('sha256').update(stored).update('\u0000').update(password).digest('base64url')
    if (matched.has(key)) return true
    if (!(await Bun.password.verify(password, stored).catch(() => false))) return false
    if (matched.size >= remembered) matched.delete(matched.values().next().value!)
    matched.add(key)
    return true
  }
}
export type PasswordCheck = ReturnType<typeof createPasswordCheck>

const accountColumns = {
  user_id: users.userId,
  username: users.username,
  role: sql<Role>`${users.role}`,
  disabled: users.disabled,
  must_change_password: users.mustChangePassword,
  created_at: sql<string>`to_json(${users.createdAt}) #>> '{}'`,
  sites: sql<string[]>`array(select site_id from ${userSites} where ${userSites.userId} = ${users.userId} order by site_id)`,
}
const asAccount = (row: Omit<Account, 'created_at'> & { created_at: string }): Account => ({ ...row, created_at: new Date(row.created_at).toISOString() })

export async function listAccounts(db: Db): Promise<Account[]> {
  return (await db.select(accountColumns).from(users).orderBy(asc(users.username))).map(asAccount)
}

export async function accountById(db: Db, userId: string): Promise<Account | undefined> {
  const [row] = await db.select(accountColumns).from(users).where(eq(users.userId, userId))
  return row && asAccount(row)
}

/** The account with its password hash, for signing in. */
export async function accountByName(db: Db, username: string): Promise<(Account & { password_hash: string }) | undefined> {
  const [row] = await db
    .select({ ...accountColumns, password_hash: users.passwordHash })
    .from(users)
    .where(eq(users.username, username))
  return row && { ...asAccount(row), password_hash: row.password_hash }
}

/**
 * Keeps the account named by ADMIN_USER an enabled admin with the configured password: created on
 * the first start; its password reset (and its sessions ended) whenever the configured password
 * differs from the one last applied, so a password changed in the dashboard survives restarts.
 */
export async function syncConfiguredAdmin(db: Db, configured: { user: string; password: string }): Promise<void> {
  const [row] = await db.select({ userId: users.userId, applied: users.configuredPasswordHash }).from(users).where(eq(users.username, configured.user))
  if (row?.applied && (await Bun.password.verify(configured.password, row.applied).catch(() => false))) return
  const hash = await hashPassword(configured.password)
  await db.transaction(async (tx) => {
    const [kept] = await tx
      .insert(users)
      .values({ username: configured.user, passwordHash: hash, configuredPasswordHash: hash, role: 'admin' })
      .onConflictDoUpdate({
        target: users.username,
        set: { passwordHash: hash, configuredPasswordHash: hash, role: 'admin', disabled: false, mustChangePassword: false },
      })
      .returning({ userId: users.userId })
    await tx.delete(sessions).where(eq(sessions.userId, kept!.userId))
  })
}

/** Changes that would leave no enabled admin are refused; taken under one lock so two cannot pass at once. */
const lockAccounts = (tx: Pick<Db, 'execute'>) => tx.execute(sql`select pg_advisory_xact_lock(1970234483, 1)`)
const enabledAdminsBesides = async (tx: Pick<Db, 'execute'>, userId: string) => {
  const [row] = await tx.execute<{ count: number }>(
    sql`select count(*)::int as count from ${users} where ${users.role} = 'admin' and not ${users.disabled} and ${users.userId} <> ${userId}`,
  )
  return row!.count
}

export interface NewAccount {
  username: string
  password: string
  role: Role
  sites?: string[]
}

/** A new account, which must choose its own password at its first sign-in. */
export async function createAccount(db: Db, account: NewAccount): Promise<Account | { conflict: string }> {
  const hash = await hashPassword(account.password)
  const userId = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ username: account.username, passwordHash: hash, role: account.role, mustChangePassword: true })
      .onConflictDoNothing()
      .returning({ userId: users.userId })
    if (!row) return undefined
    const sites = [...new Set(account.sites ?? [])]
    if (sites.length > 0) await tx.insert(userSites).values(sites.map((siteId) => ({ siteId, userId: row.userId })))
    return row.userId
  })
  if (userId === undefined) return { conflict: `a user named ${account.username} already exists` }
  return (await accountById(db, userId))!
}

export interface AccountChange {
  role?: Role
  sites?: string[]
  disabled?: boolean
  /** A password set by an admin: the user must choose their own at the next sign-in. */
  password?: string
}

export async function updateAccount(db: Db, userId: string, change: AccountChange): Promise<Account | 'missing' | { conflict: string }> {
  const hash = change.password === undefined ? undefined : await hashPassword(change.password)
  const outcome = await db.transaction(async (tx) => {
    await lockAccounts(tx)
    const [current] = await tx.select({ role: users.role, disabled: users.disabled }).from(users).where(eq(users.userId, userId)).for('update')
    if (!current) return 'missing' as const
    const staysAdmin = (change.role ?? current.role) === 'admin' && !(change.disabled ?? current.disabled)
    if (!staysAdmin && (await enabledAdminsBesides(tx, userId)) === 0) return { conflict: 'this is the last enabled admin: make another admin first' }
    const set = {
      ...(change.role !== undefined && { role: change.role }),
      ...(change.disabled !== undefined && { disabled: change.disabled }),
      ...(hash !== undefined && { passwordHash: hash, mustChangePassword: true }),
    }
    if (Object.keys(set).length > 0) await tx.update(users).set(set).where(eq(users.userId, userId))
    if (change.sites !== undefined) {
      await tx.delete(userSites).where(eq(userSites.userId, userId))
      const sites = [...new Set(change.sites)]
      if (sites.length > 0) await tx.insert(userSites).values(sites.map((siteId) => ({ siteId, userId })))
    }
    // A disabled account, or one whose password an admin replaced, is signed out everywhere at once.
    if (change.disabled === true || hash !== undefined) await tx.delete(sessions).where(eq(sessions.userId, userId))
    return 'updated' as const
  })
  return outcome === 'updated' ? (await accountById(db, userId))! : outcome
}

export async function deleteAccount(db: Db, userId: string): Promise<'deleted' | 'missing' | { conflict: string }> {
  return db.transaction(async (tx) => {
    await lockAccounts(tx)
    const [current] = await tx.select({ role: users.role, disabled: users.disabled }).from(users).where(eq(users.userId, userId))
    if (!current) return 'missing' as const
    if (current.role === 'admin' && !current.disabled && (await enabledAdminsBesides(tx, userId)) === 0) {
      return { conflict: 'this is the last enabled admin: make another admin first' }
    }
    await tx.delete(users).where(eq(users.userId, userId))
    return 'deleted' as const
  })
}

/** A user's own new password; every other session of theirs ends. */
export async function changeOwnPassword(db: Db, userId: string, password: string, keepSession: string | undefined): Promise<void> {
  const hash = await hashPassword(password)
  await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash: hash, mustChangePassword: false }).where(eq(users.userId, userId))
    const others = keepSession === undefined ? sql`true` : sql`${sessions.tokenHash} <> ${tokenHash(keepSession)}`
    await tx.delete(sessions).where(and(eq(sessions.userId, userId), others))
  })
}

export type TokenKind = 'link' | 'key'
/** What each kind of site token starts with, so a bearer token says where to look it up. */
export const TOKEN_PREFIX: Record<TokenKind, string> = { link: 'sl_', key: 'ak_' }

export interface SiteTokenInfo {
  id: string
  name: string | null
  password_protected: boolean
  created_at: string
}

const tokenColumns = {
  id: siteTokens.tokenId,
  name: siteTokens.name,
  password_protected: sql<boolean>`${siteTokens.passwordHash} is not null`,
  created_at: sql<string>`to_json(${siteTokens.createdAt}) #>> '{}'`,
}
const asTokenInfo = (row: SiteTokenInfo): SiteTokenInfo => ({ ...row, created_at: new Date(row.created_at).toISOString() })

export async function createSiteToken(
  db: Db,
  siteId: string,
  kind: TokenKind,
  options: { name?: string; password?: string },
): Promise<SiteTokenInfo & { token: string }> {
  const token = randomToken(TOKEN_PREFIX[kind])
  const passwordHash = options.password === undefined ? null : await hashPassword(options.password)
  const [row] = await db
    .insert(siteTokens)
    .values({ siteId, kind, name: options.name ?? null, tokenHash: tokenHash(token), passwordHash })
    .returning(tokenColumns)
  return { ...asTokenInfo(row!), token }
}

export async function listSiteTokens(db: Db, siteId: string, kind: TokenKind): Promise<SiteTokenInfo[]> {
  const rows = await db
    .select(tokenColumns)
    .from(siteTokens)
    .where(and(eq(siteTokens.siteId, siteId), eq(siteTokens.kind, kind)))
    .orderBy(asc(siteTokens.createdAt), asc(siteTokens.tokenId))
  return rows.map(asTokenInfo)
}

/** Revokes a token (and the sessions its password opened); false when the site has no such token. */
export async function deleteSiteToken(db: Db, siteId: string, kind: TokenKind, tokenId: string): Promise<boolean> {
  const deleted = await db
    .delete(siteTokens)
    .where(and(eq(siteTokens.siteId, siteId), eq(siteTokens.kind, kind), eq(siteTokens.tokenId, tokenId)))
    .returning({ id: siteTokens.tokenId })
  return deleted.length > 0
}

export interface SiteTokenRow {
  siteId: string
  tokenId: string
  kind: TokenKind
  passwordHash: string | null
}

/** The token's row, by its hash; the caller checks the prefix first so junk never reaches the database. */
export async function siteTokenOf(db: Db, token: string): Promise<SiteTokenRow | undefined> {
  const [row] = await db
    .select({ siteId: siteTokens.siteId, tokenId: siteTokens.tokenId, kind: siteTokens.kind, passwordHash: siteTokens.passwordHash })
    .from(siteTokens)
    .where(eq(siteTokens.tokenHash, tokenHash(token)))
  return row && { ...row, kind: row.kind as TokenKind }
}
