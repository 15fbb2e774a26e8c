import { useEffect, useEffectEvent, useId, useState, type FormEvent } from 'react'
import type { Treaty } from '@elysiajs/eden'
import { api } from '../api'
import { useChange } from '../hooks/useChange'
import { useRemote } from '../hooks/useRemote'
import type { Site } from '../hooks/useSites'
import { ConversionSettings } from './ConversionSettings'
import { Empty, Panel, Problem, RemoteContent } from './Panel'

/** Every IANA zone the browser knows (the API checks each against Postgres's list). */
const ALL_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')]
const REBUILD_POLL_MS = 500

/** One site's settings (admins): its zone, goals and funnels, shared links, API keys, and deleting its data. */
export function SiteSettings({ siteId, site, onSitesChanged }: { siteId: string; site: Site | undefined; onSitesChanged: () => void }) {
  const [version, setVersion] = useState(0)
  return (
    <main className="grid settings-page" data-testid="site-settings">
      <TimeZoneSetting siteId={siteId} site={site} onRebuilt={onSitesChanged} />
      <ConversionSettings siteId={siteId} version={version} onChange={() => setVersion((old) => old + 1)} />
      <TokenSettings siteId={siteId} kind="link" />
      <TokenSettings siteId={siteId} kind="key" />
      <DeleteData siteId={siteId} onDeleted={onSitesChanged} />
    </main>
  )
}

type Rebuild = Treaty.Data<ReturnType<ReturnType<typeof api.sites>['rebuild']>['get']>

/** The site's zone: saving it starts the rollups' rebuild, followed here until it commits. */
function TimeZoneSetting({ siteId, site, onRebuilt }: { siteId: string; site: Site | undefined; onRebuilt: () => void }) {
  const [zone, setZone] = useState(site?.timezone ?? 'UTC')
  const [jobId, setJobId] = useState<string | null>(null)
  const [rebuild, setRebuild] = useState<Rebuild | null>(null)
  const { problem, change } = useChange(() => {})
  const id = useId()
  const rebuilt = useEffectEvent(onRebuilt)
  useEffect(() => {
    if (jobId === null) return
    let timer: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const poll = async () => {
      const { data } = await api.sites({ id: siteId }).rebuild({ job_id: jobId }).get()
      if (stopped) return
      if (data) setRebuild(data)
      if (data?.state === 'completed') rebuilt()
      else if (data?.state !== 'failed') timer = setTimeout(poll, REBUILD_POLL_MS)
    }
    void poll()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [jobId, siteId])
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setRebuild(null)
    const saved = await change(() => api.sites({ id: siteId }).put({ timezone: zone }))
    if (saved) setJobId(saved.data.jobId)
  }
  return (
    <Panel title="Time zone" className="settings">
      <form className="settings-form" onSubmit={submit} aria-label="Time zone">
        <p>
          Days, hours and visits are counted in the site's zone: {site ? <strong>{site.rollup_timezone}</strong> : 'UTC (no events yet)'}. A new zone
          rebuilds every rollup; answers switch to it when the rebuild commits.
        </p>
        <label htmlFor={id}>Zone</label>
        <select id={id} value={zone} onChange={(event) => setZone(event.target.value)} data-testid="settings-zone">
          {ALL_ZONES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <button type="submit">Save and rebuild</button>
      </form>
      <Problem message={problem} />
      {rebuild && (
        <div className="rebuild" role="status" data-testid="rebuild-status" data-state={rebuild.state}>
          <progress max={100} value={rebuild.progress} aria-label="Rebuild progress" />{' '}
          {rebuild.state === 'completed'
            ? `Rebuilt: the site now reports in ${rebuild.rollup_timezone}.`
            : rebuild.state === 'failed'
              ? `The rebuild failed: ${rebuild.error ?? 'see the queue board'}. It is retried; answers stay in ${rebuild.rollup_timezone}.`
              : rebuild.state === 'waiting'
                ? 'Waiting for the worker…'
                : `Rebuilding: ${rebuild.progress}%`}
        </div>
      )}
    </Panel>
  )
}

const TOKEN_KINDS = {
  link: { title: 'Shared links', noun: 'shared link', testId: 'shared-links' },
  key: { title: 'API keys', noun: 'API key', testId: 'api-keys' },
} as const

/** A site's shared links or API keys: listed, made (the secret shown once, here) and revoked. */
function TokenSettings({ siteId, kind }: { siteId: string; kind: 'link' | 'key' }) {
  const [version, setVersion] = useState(0)
  const [made, setMade] = useState<string | null>(null)
  const { problem, change } = useChange(() => setVersion((old) => old + 1))
  const site = api.sites({ id: siteId })
  const list = useRemote({ siteId, kind, version }, async (_params, signal) => {
    const answer = kind === 'link' ? await site['shared-links'].get({ fetch: { signal } }) : await site['api-keys'].get({ fetch: { signal } })
    return answer.error ? answer : { data: 'links' in answer.data ? answer.data.links : answer.data.keys, error: null }
  })
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const ids = { name: useId(), password: useId() }
  const { title, noun, testId } = TOKEN_KINDS[kind]
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const body = { ...(name ? { name } : {}), ...(password ? { password } : {}) }
    const result = kind === 'link' ? await change(() => site['shared-links'].post(body)) : await change(() => site['api-keys'].post({ name }))
    if (!result) return
    setMade('url' in result.data ? result.data.url : result.data.key)
    setName('')
    setPassword('')
  }
  return (
    <Panel title={title} className="settings">
      <div data-testid={testId}>
        <Problem message={problem} />
        {made && (
          <p className="made-secret" role="status">
            {kind === 'link' ? 'The link, shown only now: ' : 'The key, shown only now: '}
            <code data-testid={`${testId}-made`}>{made}</code>
          </p>
        )}
        <RemoteContent remote={list} height={60}>
          {(tokens) =>
            tokens.length === 0 ? (
              <Empty>No {noun}s yet.</Empty>
            ) : (
              <ul className="settings-list">
                {tokens.map((token) => (
                  <li key={token.id} data-testid={`${testId}-row`}>
                    <span>
                      <strong>{token.name ?? 'Unnamed'}</strong> · made {new Date(token.created_at).toLocaleDateString()}
                      {token.password_protected && ' · password'}
                    </span>
                    <button
                      type="button"
                      onClick={() =>
                        change(() =>
                          kind === 'link' ? site['shared-links']({ token_id: token.id }).delete() : site['api-keys']({ token_id: token.id }).delete(),
                        )
                      }
                    >
                      Revoke<span className="visually-hidden"> {token.name ?? noun}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )
          }
        </RemoteContent>
        <form className="settings-form" onSubmit={submit} aria-label={`Make a ${noun}`}>
          <label htmlFor={ids.name}>{kind === 'link' ? 'Name (optional)' : 'Name'}</label>
          <input id={ids.name} value={name} required={kind === 'key'} onChange={(event) => setName(event.target.value)} />
          {kind === 'link' && (
            <>
              <label htmlFor={ids.password}>Password (optional)</label>
              <input id={ids.password} type="password" autoComplete="new-password" value={password} onChange={(event) => setPassword(event.target.value)} />
            </>
          )}
          <button type="submit">Make {noun}</button>
        </form>
      </div>
    </Panel>
  )
}

type Deleted = Treaty.Data<ReturnType<typeof api.sites>['delete']>

/** Deleting the site's data, once its id is typed again; the counts removed are shown. */
function DeleteData({ siteId, onDeleted }: { siteId: string; onDeleted: () => void }) {
  const [typed, setTyped] = useState('')
  const [deleted, setDeleted] = useState<Deleted | null>(null)
  const { problem, change } = useChange(onDeleted)
  const id = useId()
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const result = await change(() => api.sites({ id: siteId }).delete(undefined, { query: { confirm: typed } }))
    if (!result) return
    setDeleted(result.data)
    setTyped('')
  }
  return (
    <Panel title="Delete this site's data" className="settings danger">
      <form className="settings-form" onSubmit={submit} aria-label="Delete this site's data">
        <p>
          Removes every event, visit, rollup and ledger count of <strong>{siteId}</strong>, for good. Its zone, goals, funnels, shared links, API keys and
          viewers stay.
        </p>
        <label htmlFor={id}>Type the site id to confirm</label>
        <input id={id} value={typed} autoComplete="off" onChange={(event) => setTyped(event.target.value)} />
        <button type="submit" disabled={typed !== siteId}>
          Delete this site's data
        </button>
      </form>
      <Problem message={problem} />
      {deleted && (
        <p role="status" data-testid="deleted-counts">
          Deleted {deleted.deleted.events} events, {deleted.deleted.visits} visits, {deleted.deleted.visit_figure_rows + deleted.deleted.rollup_rows} rollup
          rows and {deleted.deleted.ledger_rows} ledger rows.
        </p>
      )}
    </Panel>
  )
}
