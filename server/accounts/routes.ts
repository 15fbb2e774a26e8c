import { Elysia, t } from 'elysia'
import type { Db } from '../../drizzle/client'
import type { Access } from '../access'
import { escapeHtml, formPage, html, safeNext } from '../auth/routes'
import { ErrorResponse } from '../errors'
import { readFormBody, readJsonBody } from '../http'
import { Account, AccountList, MIN_PASSWORD, NewUser, PasswordChange, UserChange, UserParams } from './model'
import { changeOwnPassword, createAccount, deleteAccount, listAccounts, updateAccount } from './store'

const BODY_BYTES = 64 * 1024

const passwordPage = (next: string, error?: string) =>
  formPage(
    'Choose a new password',
    '/account/password',
    `<label>Current password <input name="current_password" type="password" autocomplete="current-password" required autofocus></label>
  <label>New password (at least ${MIN_PASSWORD} characters) <input name="new_password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD}" required></label>
  <input type="hidden" name="next" value="${escapeHtml(next)}">`,
    'Save',
    error,
  )

const isForm = (request: Request) => (request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')

/** The signed-in account itself: who it is, and its password. */
export function accountRoutes(deps: { db: Db; access: Access }) {
  const { db, access } = deps
  return new Elysia({ name: 'account', prefix: '/account' })
    .use(access.plugin)
    .guard({ access: 'account' }, (self) =>
      self
        .get(
          '',
          async ({ request, server }) => {
            const principal = await access.principal(request, server)
            if (principal.kind !== 'user') throw new Error('the account rule admits accounts only')
            return principal.account
          },
          { response: { 200: Account }, detail: { summary: 'The signed-in account: name, role, sites', tags: ['users'] } },
        )
        .get('/password', ({ query }) => html(passwordPage(safeNext(query.next))), {
          query: t.Object({ next: t.Optional(t.String()) }),
          detail: { hide: true },
        })
        .post(
          '/password',
          async ({ body, request, server, status }) => {
            const principal = await access.principal(request, server)
            if (principal.kind !== 'user') throw new Error('the account rule admits accounts only')
            const next = safeNext(body.next)
            const refuse = (error: string) => (isForm(request) ? html(passwordPage(next, error), 400) : status(400, { error }))
            if (!(await access.guessing(request, server, () => access.signIn(principal.account.username, body.current_password)))) {
              return refuse('current_password is wrong')
            }
            if (body.new_password === body.current_password) return refuse('new_password must differ from the current one')
            await changeOwnPassword(db, principal.account.user_id, body.new_password, principal.session)
            return isForm(request) ? new Response(null, { status: 303, headers: { location: next } }) : status(204, undefined)
          },
          {
            parse: access.readBodyAfter('account', (request) => (isForm(request) ? readFormBody(request, BODY_BYTES) : readJsonBody(request, BODY_BYTES))),
            body: PasswordChange,
            response: { 204: t.Undefined(), 400: ErrorResponse },
            detail: {
              summary: "Change the signed-in account's password (JSON or the form); its other sessions end",
              tags: ['users'],
            },
          },
        ),
    )
}

/** Accounts (admin only). */
export function usersRoutes(deps: { db: Db; access: Access }) {
  const { db, access } = deps
  return new Elysia({ name: 'users', prefix: '/users' }).use(access.plugin).guard({ access: 'admin' }, (admins) =>
    admins
      .get('', async () => ({ users: await listAccounts(db) }), {
        response: { 200: AccountList },
        detail: { summary: 'Every account with its role and sites (admin)', tags: ['users'] },
      })
      .post(
        '',
        async ({ body, status }) => {
          const made = await createAccount(db, body)
          if ('conflict' in made) return status(409, { error: made.conflict })
          return status(201, made)
        },
        {
          parse: access.readBodyAfter('admin', (request) => readJsonBody(request, BODY_BYTES)),
          body: NewUser,
          response: { 201: Account, 400: ErrorResponse, 409: ErrorResponse },
          detail: {
            summary: 'Add an account (admin) with an initial password, which its user must change at the first sign-in',
            tags: ['users'],
          },
        },
      )
      .patch(
        '/:id',
        async ({ params, body, status }) => {
          const updated = await updateAccount(db, params.id, body)
          if (updated === 'missing') return status(404, { error: 'no such user' })
          if ('conflict' in updated) return status(409, { error: updated.conflict })
          return updated
        },
        {
          params: UserParams,
          parse: access.readBodyAfter('admin', (request) => readJsonBody(request, BODY_BYTES)),
          body: UserChange,
          response: { 200: Account, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
          detail: {
            summary: "Change an account's role, sites, password (to be changed at the next sign-in) or disable it (admin); disabling ends its sessions at once",
            tags: ['users'],
          },
        },
      )
      .delete(
        '/:id',
        async ({ params, status }) => {
          const deleted = await deleteAccount(db, params.id)
          if (deleted === 'missing') return status(404, { error: 'no such user' })
          if (deleted !== 'deleted') return status(409, { error: deleted.conflict })
          return status(204, undefined)
        },
        {
          params: UserParams,
          response: { 204: t.Undefined(), 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
          detail: { summary: 'Delete an account and its sessions (admin); the last enabled admin cannot be deleted', tags: ['users'] },
        },
      ),
  )
}
