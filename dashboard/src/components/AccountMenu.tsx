import type { Account } from '../hooks/useAccount'

/** Who is signed in, where the admin's pages are, and signing out (a same-origin form post). */
export function AccountMenu({ account, page }: { account: Account; page: string }) {
  const next = encodeURIComponent(window.location.pathname + window.location.search + window.location.hash)
  return (
    <nav className="account-menu" aria-label="Account">
      {account.role === 'admin' && (
        <>
          <a href={page === 'settings' ? '#' : '#settings'}>{page === 'settings' ? 'Dashboard' : 'Settings'}</a>
          <a href={page === 'users' ? '#' : '#users'}>{page === 'users' ? 'Dashboard' : 'Users'}</a>
          <a href="/admin/queues">Queue board</a>
        </>
      )}
      <span className="account-name" data-testid="account-name">
        {account.username} <span className="account-role">({account.role})</span>
      </span>
      <a href={`/account/password?next=${next}`}>Change password</a>
      <form method="post" action="/logout">
        <button type="submit">Sign out</button>
      </form>
    </nav>
  )
}
