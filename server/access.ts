import { Elysia } from 'elysia'
import type { Server } from 'bun'
import { HttpError } from './errors'
import { budgetKey, isLoopback, peerAddress, type ClientAddress } from './client-address'
import { readCookie, sameSecret, SESSION_COOKIE, type SessionStore } from './auth/session'
import { RateLimiter, type RateLimit } from './rate-limit'

/**
 * Who may call a route group, declared on the group itself (`.guard({ access: 'reader' })`), so
 * a route added to a group inherits its rule. The decision is made on the route Elysia matched,
 * before the request is validated: no path string is ever re-parsed to decide access.
 *
 * - `public`: anyone (ingestion, health, the tracker, the login form, the API reference).
 * - `reader`: stats, sites, ledger, queue and metrics reads: an admin, the STATS_API_KEY bearer
 *   key, or, while no key is configured, a caller on the loopback interface (by socket address).
 * - `admin`: the dashboard, Bull Board and site settings: an admin session or HTTP Basic.
 */
export type AccessRule = 'public' | 'reader' | 'admin'

export interface AccessConfig {
  user: string
  password: string
  /** When set, readers need `Authorization: Bearer <key>` (or an admin) wherever they connect from. */
  statsApiKey?: string
  /** Readers on the loopback interface need no key while none is configured. */
  loopbackReads: boolean
  /** True behind a reverse proxy: then every request may come from loopback, so loopback proves nothing. */
  behindProxy: boolean
  /** Failed sign-ins (form or HTTP Basic) per client address; a rate of 0 turns the budget off. */
  loginGuesses: RateLimit
}

export type Principal = { kind: 'admin'; user: string } | { kind: 'key' } | { kind: 'loopback' }

/** Failed sign-ins per client address by default: 10 at once, then one every 30 s. */
export const LOGIN_GUESSES: RateLimit = { rate: 1 / 30, burst: 10 }

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
  sessions: SessionStore
  clientAddress: ClientAddress
}

export function accessControl(deps: AccessDeps) {
  const { config, sessions, clientAddress } = deps
  const guesses = new RateLimiter(config.loginGuesses)
  const loopbackOpen = config.loopbackReads && config.statsApiKey === undefined && !config.behindProxy

  /** Seconds a client must wait before its next sign-in attempt (0: it may try now). */
  const guessWait = (request: Request, server: Server<unknown> | null) => guesses.wait(budgetKey(clientAddress(request, server)), 1)
  /** Records a failed sign-in; returns the seconds to wait when that used up the budget. */
  const guessFailed = (request: Request, server: Server<unknown> | null) => {
    guesses.take(budgetKey(clientAddress(request, server)), 1)
    return guessWait(request, server)
  }
  const tooManyGuesses = (wait: number) => new HttpError(429, 'Too many failed sign-ins from this address; retry later', { 'retry-after': String(wait) })

  const sameUser = (user: string, password: string) => sameSecret(user, config.user) && sameSecret(password, config.password)

  async function adminOf(request: Request, server: Server<unknown> | null): Promise<Principal | undefined> {
    const token = readCookie(request.headers.get('cookie'), SESSION_COOKIE)
    const user = token ? await sessions.userOf(token) : undefined
    if (user === config.user) return { kind: 'admin', user }
    const header = request.headers.get('authorization')
    if (!header?.startsWith('Basic ')) return undefined
    const wait = guessWait(request, server)
    if (wait > 0) throw tooManyGuesses(wait)
    const decoded = Buffer.from(header.slice(6), 'base64').toString()
    const colon = decoded.indexOf(':')
    if (colon >= 0 && sameUser(decoded.slice(0, colon), decoded.slice(colon + 1))) return { kind: 'admin', user: config.user }
    const after = guessFailed(request, server)
    if (after > 0) throw tooManyGuesses(after)
    return undefined
  }

  function readerOf(request: Request, server: Server<unknown> | null): Principal | undefined {
    const header = request.headers.get('authorization')
    if (config.statsApiKey !== undefined && header?.startsWith('Bearer ')) {
      // A key is a password: guesses share the sign-in budget, and past it even the right one waits.
      const wait = guessWait(request, server)
      if (wait > 0) throw tooManyGuesses(wait)
      if (sameSecret(header.slice(7), config.statsApiKey)) return { kind: 'key' }
      const after = guessFailed(request, server)
      if (after > 0) throw tooManyGuesses(after)
    }
    // A header a proxy adds means a proxy on this machine relays someone else: loopback proves nothing then.
    const relayed = PROXY_HEADERS.some((name) => request.headers.has(name))
    if (loopbackOpen && !relayed && isLoopback(peerAddress(request, server))) return { kind: 'loopback' }
    return undefined
  }

  function refuse(rule: 'reader' | 'admin', request: Request): never {
    if (rule === 'reader') {
      const error =
        config.statsApiKey === undefined
          ? 'An admin session (or HTTP Basic) is required; set STATS_API_KEY to give programs a bearer key'
          : 'A valid STATS_API_KEY bearer token or an admin session is required'
      throw new HttpError(401, error, { 'www-authenticate': config.statsApiKey === undefined ? 'Basic realm="analytics admin", charset="UTF-8"' : 'Bearer' })
    }
    // People get the login form; programs get a 401 they can act on.
    if (request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) {
      // Where to come back to; the login form checks it stays on this origin (safeNext).
      const { pathname, search } = new URL(request.url, 'http://this.invalid')
      const next = pathname + search
      throw new HttpError(302, 'Authentication required', { location: `/login?next=${encodeURIComponent(next)}` })
    }
    throw new HttpError(401, 'Authentication required', { 'www-authenticate': 'Basic realm="analytics admin", charset="UTF-8"' })
  }

  /**
   * Refuses the request unless its caller may use a route of `rule`. Decided once per request:
   * the body reader of a route can ask first (so a stranger's body is never read), and the
   * transform hook asks again for routes without one.
   */
  const decisions = new WeakMap<Request, { rule: AccessRule; decision: Promise<void> }>()
  async function decide(rule: AccessRule, request: Request, server: Server<unknown> | null): Promise<void> {
    if (rule === 'public') return
    const principal = (rule === 'reader' ? readerOf(request, server) : undefined) ?? (await adminOf(request, server))
    if (!principal) refuse(rule, request)
    if (rule === 'admin' && STATE_CHANGING.has(request.method)) assertSameOrigin(request, config.behindProxy)
  }
  const require = (rule: AccessRule, request: Request, server: Server<unknown> | null) => {
    const known = decisions.get(request)
    if (known?.rule === rule) return known.decision
    const decision = decide(rule, request, server)
    decisions.set(request, { rule, decision })
    return decision
  }

  return {
    /** A route's body reader that runs only once the caller is known to be allowed. */
    /** For the public sign-in routes, which change state too. */
    assertSameOrigin: (request: Request) => assertSameOrigin(request, config.behindProxy),
    readBodyAfter:
      <T>(rule: AccessRule, read: (request: Request) => Promise<T>) =>
      async ({ request, server }: { request: Request; server: Server<unknown> | null }) => {
        await require(rule, request, server)
        return read(request)
      },
    guessWait,
    guessFailed,
    sameUser,
    plugin: new Elysia({ name: 'access' }).macro({
      // Public routes get no hook at all: ingestion is the hot path.
      access: (rule: AccessRule) =>
        rule === 'public'
          ? {}
          : {
              // Before the default body parsers (Bull Board's routes), and before validation for every route.
              parse: ({ request, server }) => require(rule, request, server).then(() => undefined),
              transform: ({ request, server }) => require(rule, request, server),
            },
    }),
  }
}

export type Access = ReturnType<typeof accessControl>
