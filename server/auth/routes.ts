import { Elysia, t } from 'elysia'
import type { Access } from '../access'
import { HTML_SECURITY_HEADERS, readFormBody } from '../http'
import { readCookie, SESSION_COOKIE, SESSION_TTL_SECONDS, type SessionStore } from './session'

/** Most bytes of a sign-in form: a user, a password and a path fit in far less. */
export const LOGIN_BODY_BYTES = 4_096

/**
 * Only same-origin paths, so the login form cannot be used to redirect elsewhere. Browsers drop
 * tabs and newlines and read a backslash as `/`, so the value is resolved as a browser would and kept
 * only when it stays on this origin.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/')) return '/'
  const base = 'http://this.invalid'
  let url: URL
  try {
    url = new URL(next, base)
  } catch {
    return '/'
  }
  return url.origin === base ? url.pathname + url.search + url.hash : '/'
}

const isHttps = (request: Request) => request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https'

export function sessionCookie(request: Request, value: string, maxAge: number): string {
  // Secure only over TLS: a plain-http local install must still be able to log in.
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${isHttps(request) ? '; Secure' : ''}`
}

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A small form page (sign-in, new password) in the dashboard's look; `fields` is trusted markup. */
export function formPage(title: string, action: string, fields: string, button: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Analytics</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  body { font-family: system-ui, sans-serif; background: #f5f6f8; display: grid; place-items: center; min-height: 100vh; margin: 0; color: #1d2330 }
  form { background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 1px 3px rgb(0 0 0 / 0.1); width: min(340px, 90vw); display: grid; gap: 1rem }
  h1 { font-size: 1.25rem; margin: 0 }
  label { display: grid; gap: 0.35rem; font-size: 0.9rem }
  input { font: inherit; padding: 0.55rem 0.7rem; border: 1px solid #c9ced8; border-radius: 8px }
  button { font: inherit; padding: 0.6rem; border: 0; border-radius: 8px; background: #3b5bdb; color: #fff; cursor: pointer }
  p[role=alert] { color: #c92a2a; margin: 0 }
</style></head>
<body><main><form method="post" action="${escapeHtml(action)}">
  <h1>${escapeHtml(title)}</h1>
  ${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
  ${fields}
  <button type="submit">${escapeHtml(button)}</button>
</form></main></body></html>`
}

const loginPage = (next: string, error?: string) =>
  formPage(
    'Analytics',
    '/login',
    `<label>User <input name="user" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <input type="hidden" name="next" value="${escapeHtml(next)}">`,
    'Sign in',
    error,
  )

export const html = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...HTML_SECURITY_HEADERS, ...headers } })

/** The login form and sign-out: public routes (the form is how one becomes an admin). */
export function authRoutes(deps: { access: Access; sessions: SessionStore }) {
  const { access, sessions } = deps
  return new Elysia({ name: 'auth' })
    .use(access.plugin)
    .guard({ access: 'public' })
    .get('/login', ({ query }) => html(loginPage(safeNext(query.next))), {
      query: t.Object({ next: t.Optional(t.String()) }),
      detail: { hide: true },
    })
    .post(
      '/login',
      async ({ body, request, server }) => {
        access.assertSameOrigin(request)
        const next = safeNext(body.next)
        const wait = access.guessWait(request, server)
        if (wait > 0) {
          return html(loginPage(next, `Too many failed sign-ins; try again in ${wait} s.`), 429, { 'retry-after': String(wait) })
        }
        const account = await access.signIn(body.user, body.password)
        if (!account) {
          access.guessFailed(request, server)
          return html(loginPage(next, 'Wrong user or password.'), 401)
        }
        const token = await sessions.create({ userId: account.user_id })
        // An account made with a password chosen by an admin chooses its own first.
        const location = account.must_change_password ? `/account/password?next=${encodeURIComponent(next)}` : next
        return new Response(null, { status: 303, headers: { location, 'set-cookie': sessionCookie(request, token, SESSION_TTL_SECONDS) } })
      },
      {
        parse: ({ request }) => readFormBody(request, LOGIN_BODY_BYTES),
        body: t.Object({ user: t.String(), password: t.String(), next: t.Optional(t.String()) }),
        detail: { hide: true },
      },
    )
    .post(
      '/logout',
      async ({ request }) => {
        access.assertSameOrigin(request)
        const token = readCookie(request.headers.get('cookie'), SESSION_COOKIE)
        if (token) await sessions.revoke(token)
        return new Response(null, { status: 303, headers: { location: '/login', 'set-cookie': sessionCookie(request, '', 0) } })
      },
      { detail: { hide: true } },
    )
}
