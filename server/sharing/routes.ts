import { Elysia, t } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { createSiteToken, deleteSiteToken, listSiteTokens, siteTokenOf, TOKEN_PREFIX, type TokenKind } from '../accounts/store'
import { isToken, SESSION_TTL_SECONDS, type SessionStore } from '../auth/session'
import { ErrorResponse } from '../errors'
import { TEXT, UUID_PATTERN } from '../formats'
import { readJsonBody } from '../http'
import { Site, SiteParams } from '../sites/model'
import { getSites } from '../sites/queries'

const BODY_BYTES = 4_096

const name = (description: string) =>
  t.String({ minLength: 1, maxLength: 120, format: TEXT, error: 'name must be 1 to 120 characters without NUL characters or unpaired surrogates', description })
const linkPassword = t.String({ minLength: 1, maxLength: 256, error: 'password must be 1 to 256 characters' })

const TokenInfo = t.Object({ id: t.String(), name: t.Union([t.String(), t.Null()]), password_protected: t.Boolean(), created_at: t.String() })
const TokenIdParams = t.Composite([SiteParams, t.Object({ token_id: t.String({ pattern: UUID_PATTERN, error: 'the id must be a UUID, as the list gives it' }) })])

const SharedLinkBody = t.Object(
  { name: t.Optional(name('What the link is for, shown in the list')), password: t.Optional(linkPassword) },
  { additionalProperties: false },
)
const NewSharedLink = t.Composite([TokenInfo, t.Object({ token: t.String(), url: t.String() })])
const ApiKeyBody = t.Object({ name: name('What the key is for, shown in the list') }, { additionalProperties: false })
const NewApiKey = t.Composite([TokenInfo, t.Object({ key: t.String() })])

export const ShareParams = t.Object({ token: t.String({ pattern: `^${TOKEN_PREFIX.link}[A-Za-z0-9_-]{43}$`, error: 'not a shared link' }) })
const ShareSessionBody = t.Object({ password: t.Optional(t.String({ maxLength: 256, error: 'password must be at most 256 characters' })) }, { additionalProperties: false })
const ShareSession = t.Object({
  session: t.String({ description: 'Send as Authorization: Bearer <session> to this site’s /stats routes' }),
  expires_in: t.Integer({ description: 'Seconds the session lasts, unless the link is revoked first' }),
  site_id: t.String(),
  site: t.Union([Site, t.Null()], { description: 'The site, once it has events' }),
})

/** A site's shared links and API keys (admin only): tokens that read that one site's stats. */
export function siteTokensRoutes(deps: { db: Db; access: Access }) {
  const { db, access } = deps
  const list = (kind: TokenKind) => async ({ params }: { params: { id: string } }) => listSiteTokens(db, params.id, kind)
  const revoke =
    (kind: TokenKind) =>
    async ({ params, status }: { params: { id: string; token_id: string }; status: (code: 204 | 404, body?: { error: string }) => unknown }) =>
      (await deleteSiteToken(db, params.id, kind, params.token_id)) ? status(204) : status(404, { error: `this site has no such ${kind === 'link' ? 'shared link' : 'API key'}` })
  return new Elysia({ name: 'site-tokens', prefix: '/sites/:id' }).use(access.plugin).guard({ access: 'admin' }, (admins) =>
    admins
      .get('/shared-links', async (context) => ({ links: await list('link')(context) }), {
        params: SiteParams,
        response: { 200: t.Object({ links: t.Array(TokenInfo) }), 400: ErrorResponse },
        detail: { summary: "A site's shared links (admin); their tokens are never shown again", tags: ['sharing'] },
      })
      .post(
        '/shared-links',
        async ({ params, body, request, status }) => {
          const made = await createSiteToken(db, params.id, 'link', body)
          return status(201, { ...made, url: `${new URL(request.url).origin}/share/${made.token}` })
        },
        {
          params: SiteParams,
          parse: access.readBodyAfter('admin', (request) => readJsonBody(request, BODY_BYTES)),
          body: SharedLinkBody,
          response: { 201: NewSharedLink, 400: ErrorResponse },
          detail: {
            summary: "Make a read-only link to one site's dashboard (admin), optionally behind a password; its token is shown once",
            tags: ['sharing'],
          },
        },
      )
      .delete('/shared-links/:token_id', revoke('link'), {
        params: TokenIdParams,
        response: { 204: t.Undefined(), 400: ErrorResponse, 404: ErrorResponse },
        detail: { summary: 'Revoke a shared link (admin): it and the sessions it opened stop at once', tags: ['sharing'] },
      })
      .get('/api-keys', async (context) => ({ keys: await list('key')(context) }), {
        params: SiteParams,
        response: { 200: t.Object({ keys: t.Array(TokenInfo) }), 400: ErrorResponse },
        detail: { summary: "A site's API keys (admin); the keys themselves are never shown again", tags: ['sharing'] },
      })
      .post(
        '/api-keys',
        async ({ params, body, status }) => {
          const { token, ...made } = await createSiteToken(db, params.id, 'key', body)
          return status(201, { ...made, key: token })
        },
        {
          params: SiteParams,
          parse: access.readBodyAfter('admin', (request) => readJsonBody(request, BODY_BYTES)),
          body: ApiKeyBody,
          response: { 201: NewApiKey, 400: ErrorResponse },
          detail: { summary: "Make a named API key that reads this site's /stats routes (admin); shown once", tags: ['sharing'] },
        },
      )
      .delete('/api-keys/:token_id', revoke('key'), {
        params: TokenIdParams,
        response: { 204: t.Undefined(), 400: ErrorResponse, 404: ErrorResponse },
        detail: { summary: 'Revoke an API key (admin)', tags: ['sharing'] },
      }),
  )
}

/** What a shared link's holder may do without an account: trade the link (and its password) for a session. */
export function shareRoutes(deps: { db: Db; access: Access; sessions: SessionStore }) {
  const { db, access, sessions } = deps
  return new Elysia({ name: 'share', prefix: '/share' }).use(access.plugin).guard({ access: 'public' }, (anyone) =>
    anyone.post(
      '/:token/session',
      async ({ params, body, request, server, status }) => {
        access.assertSameOrigin(request)
        // The token is 32 random bytes, not worth guessing; its password is, so wrong ones spend the sign-in budget.
        const link = isToken(params.token, TOKEN_PREFIX.link) ? await siteTokenOf(db, params.token) : undefined
        if (link?.kind !== 'link') return status(404, { error: 'This shared link does not exist or was revoked' })
        if (link.passwordHash !== null) {
          const given = body.password
          const right = await access.guessing(request, server, async () =>
            given !== undefined && (await Bun.password.verify(given, link.passwordHash!).catch(() => false)) ? true : undefined,
          )
          if (!right) return status(401, { error: given === undefined ? 'This shared link needs its password' : 'Wrong password for this shared link' })
        }
        const session = await sessions.create({ siteId: link.siteId, tokenId: link.tokenId })
        const [site] = await getSites(db, new Set([link.siteId]))
        return { session, expires_in: SESSION_TTL_SECONDS, site_id: link.siteId, site: site ?? null }
      },
      {
        params: ShareParams,
        parse: ({ request }) => readJsonBody(request, BODY_BYTES),
        body: ShareSessionBody,
        response: { 200: ShareSession, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse },
        detail: {
          summary: "Trade a shared link (and its password, if it has one) for a session token that reads that site's /stats routes",
          tags: ['sharing'],
        },
      },
    ),
  )
}
