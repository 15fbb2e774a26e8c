import { useId, type ReactNode } from 'react'
import type { Remote } from '../hooks/useRemote'

/** A titled card of the dashboard; `aside` sits at the right of the title (a note, a status). */
export function Panel({ title, aside, className, children }: { title: string; aside?: ReactNode; className?: string; children: ReactNode }) {
  const titleId = useId()
  return (
    <section className={`panel ${className ?? ''}`} aria-labelledby={titleId}>
      <header className="panel-header">
        <h2 id={titleId}>{title}</h2>
        {aside && <div className="panel-aside">{aside}</div>}
      </header>
      {children}
    </section>
  )
}

/** What went wrong, as the API (or the browser) said it; nothing when all went well. */
export function Problem({ message, testId }: { message: string | null; testId?: string }) {
  if (message === null) return null
  return (
    <p className="state state-error" role="alert" data-testid={testId}>
      {message}
    </p>
  )
}

/** A sentence in place of data: nothing to show yet, or nothing at all. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="state">{children}</p>
}

/**
 * The loading, error and ready states of one API answer. `height` keeps the room the data will
 * take while loading, so the page does not jump when it arrives. `errorShownAbove`: the reason
 * is already on the page once (one refused question feeds several panels), so just say so.
 */
export function RemoteContent<T>({
  remote,
  height = 120,
  errorShownAbove = false,
  children,
}: {
  remote: Remote<T>
  height?: number
  errorShownAbove?: boolean
  children: (data: T) => ReactNode
}) {
  switch (remote.status) {
    case 'idle':
      return null
    case 'loading':
      return <div className="skeleton" style={{ height }} role="status" aria-label="Loading" />
    case 'error':
      if (errorShownAbove) return <Empty>Not available: see above.</Empty>
      return <Problem message={remote.message} />
    case 'ready':
      return children(remote.data)
  }
}
