import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react'
import { api, errorMessage } from '../api'
import { keepShareOpening, shareOpening, type ShareOpening } from '../shared'
import { Empty, Problem } from './Panel'

type Gate = { status: 'opening' } | { status: 'password'; problem: string | null } | { status: 'closed'; message: string } | { status: 'open'; opening: ShareOpening }

/** Opens a shared link: at once without a password, else after asking for it; then shows `children`. */
export function ShareGate({ token, children }: { token: string; children: (opening: ShareOpening) => ReactNode }) {
  const kept = shareOpening()
  const [gate, setGate] = useState<Gate>(kept ? { status: 'open', opening: kept } : { status: 'opening' })
  const open = async (password?: string) => {
    const { data, error } = await api.share({ token }).session.post(password === undefined ? {} : { password })
    if (data) {
      keepShareOpening(data)
      setGate({ status: 'open', opening: data })
    } else if (error.status === 401) setGate({ status: 'password', problem: password === undefined ? null : errorMessage(error) })
    else setGate({ status: 'closed', message: errorMessage(error) })
  }
  useEffect(() => {
    if (gate.status === 'opening') void open()
  })
  switch (gate.status) {
    case 'opening':
      return <div className="skeleton" style={{ height: 240 }} role="status" aria-label="Loading" />
    case 'closed':
      return <Empty>{gate.message}</Empty>
    case 'password':
      return <PasswordForm problem={gate.problem} onSubmit={open} />
    case 'open':
      return children(gate.opening)
  }
}

function PasswordForm({ problem, onSubmit }: { problem: string | null; onSubmit: (password: string) => Promise<void> }) {
  const [password, setPassword] = useState('')
  const id = useId()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    void onSubmit(password)
  }
  return (
    <form className="settings-form share-password" onSubmit={submit} aria-label="Open the shared dashboard">
      <p>This shared dashboard needs its password.</p>
      <Problem message={problem} />
      <label htmlFor={id}>Password</label>
      <input id={id} type="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
      <button type="submit">Open</button>
    </form>
  )
}
