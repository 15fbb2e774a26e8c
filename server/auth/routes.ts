import { Elysia, t } from 'elysia'
import { BOARD_PATH } from '../admin/board'
import { HTML_SECURITY_HEADERS, pathOf } from '../http'
import { createSessionToken, readCookie, sameSecret, SESSION_COOKIE, SESSION_TTL_SECONDS, verifySessionToken } from './session'

export interface AuthConfig {
  user: string
  password: string
  /** Signs session cookies. */
  sessionSecret: string
  /** When set, /stats*, GET /sites and /ingest/* need this bearer key (or an admin session). */
  statsApiKey?: string
}

export type Access = 'public' | 'stats' | 'admin'

/**
 * Who may call what. Ingestion, /health, /script.js, the login page and the API description are
 * public; the dashboard, Bull Board and site settings are for the admin; stats reads are open
 * unless STATS_API_KEY is set.
 */
export function accessOf(method: string, path: string): Access {
  if (path === '/' || path.startsWith('/assets/') || path === BOARD_PATH || path.startsWith(`${BOARD_PATH}/`)) return 'admin'
  if (path.startsWith('/sites/') && method !== 'GET') return 'admin'
  if (path === '/stats' || path.startsWith('/stats/') || path === '/sites' || path.startsWith('/ingest/') || path === '/metrics') return 'stats'
  return 'public'
}

function basicUser(header: string | null, config: AuthConfig): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString()
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)]
  return sameSecret(user, config.user) && sameSecret(password, config.password) ? user : undefined
}

/** Only same-site paths, so the login form cannot be used to redirect elsewhere. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/'
}

const isHttps = (request: Request) => request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https'

function sessionCookie(request: Request, value: string, maxAge: number): string {
  // Secure only over TLS: a plain-http local install must still be able to log in.
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${isHttps(request) ? '; Secure' : ''}`
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function loginPage(next: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Analytics</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f5f6f8; display: grid; place-items: center; min-height: 100vh; margin: 0; color: #1d2330 }
  form { background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 1px 3px rgb(0 0 0 / 0.1); width: min(340px, 90vw); display: grid; gap: 1rem }
  h1 { font-size: 1.25rem; margin: 0 }
  label { display: grid; gap: 0.35rem; font-size: 0.9rem }
  input { font: inherit; padding: 0.55rem 0.7rem; border: 1px solid #c9ced8; border-radius: 8px }
  button { font: inherit; padding: 0.6rem; border: 0; border-radius: 8px; background: #3b5bdb; color: #fff; cursor: pointer }
  p[role=alert] { color: #c92a2a; margin: 0 }
</style></head>
<body><form method="post" action="/login">
  <h1>Analytics</h1>
  ${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
  <label>User <input name="user" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <button type="submit">Sign in</button>
</form></body></html>`
}

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...HTML_SECURITY_HEADERS } })

/** The login form, sessions, and the guard in front of every non-public route. */
export function authRoutes(config: AuthConfig) {
  const userOf = (request: Request) => {
    const token = readCookie(request.headers.get('cookie'), SESSION_COOKIE)
    return (token && verifySessionToken(config.sessionSecret, token)) || basicUser(request.headers.get('authorization'), config)
  }

  return new Elysia({ name: 'auth' })
    .onRequest(({ request }) => {
      const path = pathOf(request)
      const access = accessOf(request.method, path)
      if (access === 'public' || (access === 'stats' && config.statsApiKey === undefined)) return
      if (userOf(request)) return
      if (access === 'stats') {
        const bearer = request.headers.get('authorization')
        if (bearer?.startsWith('Bearer ') && sameSecret(bearer.slice(7), config.statsApiKey!)) return
        return Response.json({ error: 'A valid STATS_API_KEY bearer token or an admin session is required' }, { status: 401, headers: { 'www-authenticate': 'Bearer' } })
      }
      // People get the login form; programs get a 401 they can act on.
      if (request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) {
        const next = path + (request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '')
        return new Response(null, { status: 302, headers: { location: `/login?next=${encodeURIComponent(next)}` } })
      }
      return Response.json({ error: 'Authentication required' }, { status: 401, headers: { 'www-authenticate': 'Basic realm="analytics admin", charset="UTF-8"' } })
    })
    .get('/login', ({ query }) => html(loginPage(safeNext(query.next))), {
      query: t.Object({ next: t.Optional(t.String()) }),
      detail: { hide: true },
    })
    .post(
      '/login',
      ({ body, request }) => {
        const next = safeNext(body.next)
        if (!(sameSecret(body.user, config.user) && sameSecret(body.password, config.password))) {
          return html(loginPage(next, 'Wrong user or password.'), 401)
        }
        const token = createSessionToken(config.sessionSecret, config.user)
        return new Response(null, { status: 303, headers: { location: next, 'set-cookie': sessionCookie(request, token, SESSION_TTL_SECONDS) } })
      },
      {
        parse: 'urlencoded',
        body: t.Object({ user: t.String(), password: t.String(), next: t.Optional(t.String()) }),
        detail: { hide: true },
      },
    )
    .post('/logout', ({ request }) => new Response(null, { status: 303, headers: { location: '/login', 'set-cookie': sessionCookie(request, '', 0) } }), {
      detail: { hide: true },
    })
}
