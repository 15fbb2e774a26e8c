import { t } from 'elysia'
import { TEXT, UUID_PATTERN } from '../formats'

export const USERNAME_PATTERN = '^[A-Za-z0-9._@-]{1,64}$'
export const MIN_PASSWORD = 8
export const MAX_PASSWORD = 256

const password = (field: string) =>
  t.String({ minLength: MIN_PASSWORD, maxLength: MAX_PASSWORD, error: `${field} must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters` })

const Role = t.Union([t.Literal('admin'), t.Literal('viewer')], { error: 'role must be admin or viewer' })

const SiteIds = t.Array(
  t.String({ minLength: 1, maxLength: 128, format: TEXT, error: 'each of sites must be a site id of 1 to 128 characters without NUL characters or unpaired surrogates' }),
  { maxItems: 1_000, error: 'sites must be a list of at most 1,000 site ids', description: 'The sites a viewer reads (admins read every site)' },
)

export const Account = t.Object({
  user_id: t.String(),
  username: t.String(),
  role: Role,
  sites: t.Array(t.String()),
  disabled: t.Boolean(),
  must_change_password: t.Boolean(),
  created_at: t.String(),
})
export const AccountList = t.Object({ users: t.Array(Account) })

export const NewUser = t.Object(
  {
    username: t.String({ pattern: USERNAME_PATTERN, error: 'username must be 1 to 64 letters, digits, ., _, @ or -' }),
    password: password('password'),
    role: Role,
    sites: t.Optional(SiteIds),
  },
  { additionalProperties: false },
)

export const UserChange = t.Object(
  {
    role: t.Optional(Role),
    sites: t.Optional(SiteIds),
    disabled: t.Optional(t.Boolean({ error: 'disabled must be true or false' })),
    password: t.Optional(password('password')),
  },
  { additionalProperties: false, minProperties: 1, error: 'send at least one of role, sites, disabled, password, and nothing else' },
)

export const UserParams = t.Object({ id: t.String({ pattern: UUID_PATTERN, error: 'the user id must be a UUID, as GET /users lists them' }) })

export const PasswordChange = t.Object(
  {
    current_password: t.String({ maxLength: MAX_PASSWORD, error: 'current_password is required' }),
    new_password: password('new_password'),
    next: t.Optional(t.String({ maxLength: 2_048 })),
  },
  { additionalProperties: false },
)
