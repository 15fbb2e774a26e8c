import { Elysia } from 'elysia'
import type { Server } from 'bun'
import { HttpError } from './errors'
import { budgetKey, isLoopback, peerAddress, type ClientAddress } from './client-address'
import type { Db } from '../drizzle/client'
import { randomBytes } from 'node:crypto'
import { accountById, accountByName, createPasswordCheck, hashPassword, siteTokenOf, TOKEN_PREFIX, type Account, type TokenKind } from './accounts/store'
import { isToken, LINK_SESSION_PREFIX, readCookie, sameSecret, SESSION_COOKIE, type SessionStore } from './auth/session'
import type { RateLimit } from './rate-limit'
import type { LimiterOf } from './shared-rate-limit'

/**
 * Who may call a route group, declared on the group itself (`.guard({ access: 'stats' })`), so
 * a route added to a group inherits its rule. The decision is made on the route Elysia matched,
 * before the request is validated: no path string is ever re-parsed to decide access.
 *
 * - `public`: anyone (ingestion, health, the tracker, the login form, shared links, the API reference).
 * - `stats`: one site's stats, named by the validated `site_id` (or the `:id` of the path): an admin, a viewer given that
 *   site, a shared link or API key of that site, the STATS_API_KEY bearer key, or, while no key is
 *   configured, a caller on the loopback interface (by socket address).
 * - `reader`: sites and the ledger: admins, viewers (who see only their sites), the key, loopback.
 * - `ops`: the queue and metrics, which cover every site: admins, the key, loopback.
 * - `member`: the dashboard: any signed-in account (session or HTTP Basic).
 * - `account`: a signed-in account's own settings, even one that must choose a new password first.
 * - `admin`: Bull Board, accounts and site settings: an admin account.
 */
export type AccessRule = 'public' | 'stats' | 'reader' | 'ops' | 'member' | 'account' | 'admin'

export interface AccessConfig {
  /** The configured admin account (ADMIN_USER / ADMIN_PASSWORD), kept in step at start. */
  user: string
  password: string
  /** When set, programs may read stats with `Authorization: Bearer <key>` wherever they connect from. */
  statsApiKey?: string
  /** Readers on the loopback interface need no key while none is configured. */
  loopbackReads: boolean
  /** True behind a reverse proxy: then every request may come from loopback, so loopback proves nothing. */
  behindProxy: boolean
  /** Failed sign-ins (form or HTTP Basic) per client address; a rate of 0 turns the budget off. */
  loginGuesses: RateLimit
}

export type Principal =
  | { kind: 'user'; account: Account; /** the cookie's session, when signed in by form */ session?: string }
  | { kind: 'key' }
  | { kind: 'loopback' }
  | { kind: 'site'; siteId: string; via: 'link' | 'key' }

/** Failed sign-ins per client address by default: 10 at once, then one every 30 s. */
export const LOGIN_GUESSES: RateLimit = { rate: 1 / 30, burst: 10 }

const BASIC_CHALLENGE = 'Basic realm="analytics admin", charset="UTF-8"'

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Headers reverse proxies and tunnels add; nginx's plain proxy_pass adds none of them, hence the README's advice. */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host', 'via']

/**
 * Why a state-changing request comes from another origin, if it does. Browsers send
 * Sec-Fetch-Site (or at least Origin) on every cross-origin POST; programs send neither and
 * authenticate with a header a page cannot set.
 */
function crossOriginReason(request: Request, behindProxy: boolean): string | undefined {
  const site = request.headers.get('sec-fetch-site')
  if (site !== null) return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site is ${site}`
  const origin = request.headers.get('origin')
  if (origin === null) return undefined
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    return 'its Origin is not a URL'
  }
  // Behind a trusted proxy the site's host may reach the API as X-Forwarded-Host; otherwise a client could write it.
  const expected = (behindProxy ? request.headers.get('x-forwarded-host') : null) ?? request.headers.get('host')
  return host !== '' && host === expected ? undefined : `Origin ${origin.slice(0, 100)} is not this site`
}

function assertSameOrigin(request: Request, behindProxy: boolean): void {
  const reason = crossOriginReason(request, behindProxy)
  if (reason) throw new HttpError(403, `Cross-origin request refused: ${reason}`)
}

export interface AccessDeps {
  config: AccessConfig
  /** Where the sign-in budget's buckets live: shared across API processes, or in this one. */
  limiterOf: LimiterOf
  db: Db
  sessions: SessionStore
  clientAddress: ClientAddress
}

const ADMITS: Record<Exclude<AccessRule, 'public'>, (principal: Principal) => boolean> = {
  stats: () => true,
  reader: (p) => p.kind !== 'site',
  ops: (p) => (p.kind === 'user' ? p.account.role === 'admin' : p.kind !== 'site'),
  member: (p) => p.kind === 'user',
  account: (p) => p.kind === 'user',
  admin: (p) => p.kind === 'user' && p.account.role === 'admin',
}
/** Rules whose routes a browser reaches with its cookie, so state-changing requests must come from this origin. */
const COOKIE_RULES = new Set<AccessRule>(['member', 'account', 'admin'])

/** The sites a principal may read: every site, or these. */
export function sitesOf(principal: Principal): 'all' | ReadonlySet<string> {
  if (principal.kind === 'site') return new Set([principal.siteId])
  if (principal.kind === 'user' && principal.account.role === 'viewer') return new Set(principal.account.sites)
  return 'all'
}

export function accessControl(deps: AccessDeps) {
  const { config, db, sessions, clientAddress } = deps
  const guesses = deps.limiterOf(config.loginGuesses, 'sign-in')
  const checkPassword = createPasswordCheck()
  const unknownAccountHash = hashPassword(randomBytes(16).toString('base64url'))
  const loopbackOpen = config.loopbackReads && config.statsApiKey === undefined && !config.behindProxy

  /** Seconds a client must wait before its next sign-in attempt (0: it may try now). */
  const guessWait = (request: Request, server: Server<unknown> | null) => guesses.wait(budgetKey(clientAddress(request, server)), 1)
  /** Records a failed sign-in; returns the seconds to wait when that used up the budget. */
  const guessFailed = (request: Request, server: Server<unknown> | null) => {
    guesses.take(budgetKey(clientAddress(request, server)), 1)
    return guessWait(request, server)
  }
  const tooManyGuesses = (wait: number) => new HttpError(429, 'Too many failed sign-ins from this address; retry later', { 'retry-after': String(wait) })
  /** Spends a guess when a credential was wrong; past the budget even the right one waits. */
  const guessing = async <T>(request: Request, server: Server<unknown> | null, attempt: () => Promise<T | undefined>): Promise<T | undefined> => {
    const wait = guessWait(request, server)
    if (wait > 0) throw tooManyGuesses(wait)
    const found = await attempt()
    if (found !== undefined) return found
    const after = guessFailed(request, server)
    if (after > 0) throw tooManyGuesses(after)
    return undefined
  }

  /** The enabled account with this name and password, or undefined. */
  async function signIn(username: string, password: string): Promise<Account | undefined> {
    const account = await accountByName(db, username)
    // An unknown name costs the same hash as a known one, so timing does not tell which names exist.
    const matched = await checkPassword(password, account?.password_hash ?? (await unknownAccountHash))
    if (!account || account.disabled || !matched) return undefined
    const { password_hash: _, ...rest } = account
    return rest
  }

  // Site tokens and link sessions are 32 random bytes: a wrong one is no guess worth budgeting, and
  // a tab still holding a revoked link must not use up its address's sign-in attempts.
  async function bearerPrincipal(token: string, request: Request, server: Server<unknown> | null): Promise<Principal | undefined> {
    if (isToken(token, LINK_SESSION_PREFIX)) {
      const owner = await sessions.ownerOf(token)
      return owner && 'siteId' in owner ? { kind: 'site', siteId: owner.siteId, via: 'link' } : undefined
    }
    const kind = (Object.keys(TOKEN_PREFIX) as TokenKind[]).find((k) => isToken(token, TOKEN_PREFIX[k]))
    if (kind !== undefined) {
      const row = await siteTokenOf(db, token)
      if (row?.kind !== kind) return undefined
      if (row.passwordHash !== null) throw new HttpError(401, 'This shared link needs its password: POST it to /share/<token>/session for a session token')
      return { kind: 'site', siteId: row.siteId, via: kind }
    }
    // STATS_API_KEY is chosen by the operator, so it is guarded like a password.
    return guessing(request, server, async () =>
      config.statsApiKey !== undefined && sameSecret(token, config.statsApiKey) ? ({ kind: 'key' } as const) : undefined,
    )
  }

  /** Who is calling: the first credential presented decides; with none, a loopback caller while that is open. */
  async function identify(request: Request, server: Server<unknown> | null): Promise<Principal | undefined> {
    const cookie = readCookie(request.headers.get('cookie'), SESSION_COOKIE)
    if (cookie) {
      const owner = await sessions.ownerOf(cookie)
      const account = owner && 'userId' in owner ? await accountById(db, owner.userId) : undefined
      if (account && !account.disabled) return { kind: 'user', account, session: cookie }
    }
    const header = request.headers.get('authorization')
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString()
      const colon = decoded.indexOf(':')
      const account = await guessing(request, server, async () => (colon >= 0 ? signIn(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined))
      return account && { kind: 'user', account }
    }
    // Credentials that were sent but are not (or no longer) good are refused, never read as loopback.
    if (header?.startsWith('Bearer ')) return bearerPrincipal(header.slice(7), request, server)
    // A header a proxy adds means a proxy on this machine relays someone else: loopback proves nothing then.
    const relayed = PROXY_HEADERS.some((name) => request.headers.has(name))
    if (loopbackOpen && !relayed && isLoopback(peerAddress(request, server))) return { kind: 'loopback' }
    return undefined
  }

  function refuseStranger(rule: AccessRule, request: Request): never {
    if (rule === 'stats' || rule === 'reader' || rule === 'ops') {
      const error =
        config.statsApiKey === undefined
          ? 'Sign in (a session or HTTP Basic) or send a site API key; set STATS_API_KEY to give programs a bearer key for every site'
          : 'A valid STATS_API_KEY bearer token, a site API key or a signed-in account is required'
      // A refused bearer token is answered as one (RFC 6750): a Basic challenge would make a browser
      // holding a revoked link's session ask for a password instead of letting the page say so.
      const bearer = config.statsApiKey !== undefined || request.headers.get('authorization')?.startsWith('Bearer ')
      throw new HttpError(401, error, { 'www-authenticate': bearer ? 'Bearer' : BASIC_CHALLENGE })
    }
    throw toPage(request, '/login', 401, 'Authentication required')
  }

  /** People get a page; programs get the status they can act on. */
  function toPage(request: Request, page: string, status: number, error: string): HttpError {
    if (request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) {
      // Where to come back to; the login form checks it stays on this origin (safeNext).
      const { pathname, search } = new URL(request.url, 'http://this.invalid')
      return new HttpError(302, error, { location: `${page}?next=${encodeURIComponent(pathname + search)}` })
    }
    const headers: Record<string, string> = status === 401 ? { 'www-authenticate': BASIC_CHALLENGE } : {}
    return new HttpError(status, error, headers)
  }

  function refuseKnown(rule: AccessRule, principal: Principal): never {
    if (principal.kind === 'site') throw new HttpError(403, "A shared link or site API key reads only its own site's /stats routes")
    throw new HttpError(403, rule === 'admin' ? 'Only an admin may do this' : 'This account may not do this')
  }

  /** The caller, found once per request and shared by every rule asked about it. */
  const principals = new WeakMap<Request, Promise<Principal | undefined>>()
  const principalOf = (request: Request, server: Server<unknown> | null) => {
    let known = principals.get(request)
    if (!known) principals.set(request, (known = identify(request, server)))
    return known
  }

  /** Refuses the request unless its caller may use a route of `rule`; returns the caller. */
  async function require(rule: Exclude<AccessRule, 'public'>, request: Request, server: Server<unknown> | null): Promise<Principal> {
    const principal = await principalOf(request, server)
    // Loopback and the stats key only read: for anything more the caller must still sign in.
    if (!principal || ((principal.kind === 'loopback' || principal.kind === 'key') && !ADMITS[rule](principal))) refuseStranger(rule, request)
    if (principal.kind === 'user' && principal.account.must_change_password && rule !== 'account') {
      throw toPage(request, '/account/password', 403, 'Choose a new password first: POST /account/password')
    }
    if (!ADMITS[rule](principal)) refuseKnown(rule, principal)
    if (COOKIE_RULES.has(rule) && STATE_CHANGING.has(request.method)) assertSameOrigin(request, config.behindProxy)
    return principal
  }

  /** Refuses a caller who may not read this site. */
  async function requireSite(request: Request, server: Server<unknown> | null, siteId: string): Promise<void> {
    const principal = await require('stats', request, server)
    const sites = sitesOf(principal)
    if (sites === 'all' || sites.has(siteId)) return
    if (principal.kind === 'site') throw new HttpError(403, `This shared link or API key reads only site ${JSON.stringify(principal.siteId)}`)
    throw new HttpError(403, `This account may not read site ${JSON.stringify(siteId)}`)
  }

  return {
    /** For the public sign-in routes, which change state too. */
    assertSameOrigin: (request: Request) => assertSameOrigin(request, config.behindProxy),
    /** A route's body reader that runs only once the caller is known to be allowed. */
    readBodyAfter:
      <T>(rule: Exclude<AccessRule, 'public'>, read: (request: Request) => Promise<T>) =>
      async ({ request, server }: { request: Request; server: Server<unknown> | null }) => {
        await require(rule, request, server)
        return read(request)
      },
    /** The allowed caller of a route that is not public (its rule has already admitted it). */
    principal: (request: Request, server: Server<unknown> | null) => principalOf(request, server) as Promise<Principal>,
    /** The sites the allowed caller may read. */
    sitesOf: async (request: Request, server: Server<unknown> | null) => sitesOf((await principalOf(request, server))!),
    requireSite,
    guessWait,
    guessFailed,
    guessing,
    signIn,
    plugin: new Elysia({ name: 'access' }).macro({
      // Public routes get no hook at all: ingestion is the hot path.
      access: (rule: AccessRule) =>
        rule === 'public'
          ? {}
          : {
              // Before the default body parsers (Bull Board's routes), and before validation for every route.
              parse: ({ request, server }) => require(rule, request, server).then(() => undefined),
              transform: ({ request, server }) => require(rule, request, server).then(() => undefined),
              // After validation: the site a stats route asks about is its validated site_id (or the site of its path).
              ...(rule === 'stats' && {
                beforeHandle: ({
                  request,
                  server,
                  query,
                  params,
                }: {
                  request: Request
                  server: Server<unknown> | null
                  query: Record<string, unknown>
                  params: Record<string, unknown>
                }) => requireSite(request, server, String(query.site_id ?? params.id)),
              }),
            },
    }),
  }
}

export type Access = ReturnType<typeof accessControl>
