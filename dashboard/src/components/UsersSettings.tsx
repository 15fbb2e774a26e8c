import { useId, useState, type FormEvent } from 'react'
import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useChange } from '../hooks/useChange'
import { useRemote } from '../hooks/useRemote'
import type { Site } from '../hooks/useSites'
import { Empty, Panel, Problem, RemoteContent } from './Panel'

type User = Treaty.Data<typeof api.users.get>['users'][number]
type Role = User['role']

/** Accounts (admins): add one with a first password, change its role and sites, disable, reset or delete it. */
export function UsersSettings({ sites, me }: { sites: Site[]; me: string }) {
  const [version, setVersion] = useState(0)
  const users = useRemote({ version }, (_params, signal) => api.users.get({ fetch: { signal } }))
  const { problem, change } = useChange(() => setVersion((old) => old + 1))
  return (
    <main className="grid settings-page">
      <Panel title="Users" className="panel-wide settings">
        <div data-testid="users">
          <Problem message={problem} testId="users-problem" />
          <RemoteContent remote={users} height={120}>
            {({ users: list }) =>
              list.length === 0 ? (
                <Empty>No users.</Empty>
              ) : (
                <table className="users-table">
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">Role</th>
                      <th scope="col">Sites</th>
                      <th scope="col">Status</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((user) => (
                      <UserRow key={user.user_id} user={user} sites={sites} isMe={user.username === me} change={change} />
                    ))}
                  </tbody>
                </table>
              )
            }
          </RemoteContent>
          <NewUserForm sites={sites} onAdd={(body) => change(() => api.users.post(body)).then(Boolean)} />
        </div>
      </Panel>
    </main>
  )
}

function UserRow({ user, sites, isMe, change }: { user: User; sites: Site[]; isMe: boolean; change: ReturnType<typeof useChange>['change'] }) {
  const patch = (body: Parameters<ReturnType<typeof api.users>['patch']>[0]) => change(() => api.users({ id: user.user_id }).patch(body))
  const resetPassword = () => {
    const password = window.prompt(`A new password for ${user.username} (at least 8 characters); they choose their own at the next sign-in`)
    if (password) void patch({ password })
  }
  return (
    <tr data-testid="user-row" data-value={user.username}>
      <th scope="row">
        {user.username}
        {isMe && ' (you)'}
        {user.must_change_password && <span className="account-role"> · must choose a password</span>}
      </th>
      <td>
        <select aria-label={`Role of ${user.username}`} value={user.role} onChange={(event) => void patch({ role: event.target.value as Role })}>
          <option value="admin">admin</option>
          <option value="viewer">viewer</option>
        </select>
      </td>
      <td>{user.role === 'admin' ? 'every site' : <SiteChoice sites={sites} chosen={user.sites} label={user.username} onChange={(chosen) => void patch({ sites: chosen })} />}</td>
      <td>{user.disabled ? 'disabled' : 'active'}</td>
      <td className="user-actions">
        <button type="button" onClick={() => void patch({ disabled: !user.disabled })}>
          {user.disabled ? 'Enable' : 'Disable'}
          <span className="visually-hidden"> {user.username}</span>
        </button>
        <button type="button" onClick={resetPassword}>
          Set password<span className="visually-hidden"> of {user.username}</span>
        </button>
        <button type="button" onClick={() => window.confirm(`Delete ${user.username}?`) && void change(() => api.users({ id: user.user_id }).delete())}>
          Delete<span className="visually-hidden"> {user.username}</span>
        </button>
      </td>
    </tr>
  )
}

/** Check boxes of the known sites (and any the account already has without events yet). */
function SiteChoice({ sites, chosen, label, onChange }: { sites: Site[]; chosen: string[]; label: string; onChange: (chosen: string[]) => void }) {
  const all = [...new Set([...sites.map((site) => site.site_id), ...chosen])].sort()
  if (all.length === 0) return <span>no sites yet</span>
  return (
    <fieldset className="site-choice">
      <legend className="visually-hidden">Sites {label} reads</legend>
      {all.map((site) => (
        <label key={site}>
          <input
            type="checkbox"
            checked={chosen.includes(site)}
            onChange={(event) => onChange(event.target.checked ? [...chosen, site] : chosen.filter((other) => other !== site))}
          />{' '}
          {site}
        </label>
      ))}
    </fieldset>
  )
}

function NewUserForm({ sites, onAdd }: { sites: Site[]; onAdd: (body: { username: string; password: string; role: Role; sites: string[] }) => Promise<boolean> }) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('viewer')
  const [chosen, setChosen] = useState<string[]>([])
  const ids = { username: useId(), password: useId(), role: useId() }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!(await onAdd({ username, password, role, sites: role === 'viewer' ? chosen : [] }))) return
    setUsername('')
    setPassword('')
    setChosen([])
  }
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Add a user">
      <label htmlFor={ids.username}>Username</label>
      <input id={ids.username} value={username} required autoComplete="off" onChange={(event) => setUsername(event.target.value)} />
      <label htmlFor={ids.password}>First password (they choose their own at the first sign-in)</label>
      <input id={ids.password} type="password" autoComplete="new-password" value={password} required minLength={8} onChange={(event) => setPassword(event.target.value)} />
      <label htmlFor={ids.role}>Role</label>
      <select id={ids.role} value={role} onChange={(event) => setRole(event.target.value as Role)}>
        <option value="viewer">viewer: reads the sites given</option>
        <option value="admin">admin: everything</option>
      </select>
      {role === 'viewer' && <SiteChoice sites={sites} chosen={chosen} label="the new user" onChange={setChosen} />}
      <button type="submit">Add user</button>
    </form>
  )
}
