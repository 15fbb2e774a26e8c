import { useId, useState, type FormEvent } from 'react'
import { api } from '../api'
import { useChange } from '../hooks/useChange'
import { useFunnels, useGoals, type Goal } from '../hooks/useConversions'
import { Empty, Panel, Problem, RemoteContent } from './Panel'

/**
 * Settings for one site's goals and funnels (the dashboard is for admins): add and delete them.
 * `onChange` is called after every change, so the reports ask again.
 */
export function ConversionSettings({ siteId, version, onChange }: { siteId: string; version: number; onChange: () => void }) {
  const goals = useGoals({ siteId, version })
  const funnels = useFunnels({ siteId, version })
  // The API's refusal (a duplicate, a goal in a funnel) is shown as it says it.
  const { problem, change: run } = useChange(onChange)
  const change = async (call: Parameters<typeof run>[0]): Promise<boolean> => (await run(call)) !== undefined
  return (
    <Panel title="Goals and funnels" className="panel-wide settings">
      <div data-testid="conversion-settings">
        <Problem message={problem} testId="settings-problem" />
        <div className="settings-columns">
          <section aria-label="Goals">
            <h3>Goals</h3>
            <RemoteContent remote={goals} height={80}>
              {({ goals: list }) =>
                list.length === 0 ? (
                  <Empty>No goals yet.</Empty>
                ) : (
                  <ul className="settings-list">
                    {list.map((goal) => (
                      <li key={goal.goal_id} data-testid="settings-goal" data-value={goal.name}>
                        <span>
                          <strong>{goal.name}</strong> · {goal.event_type !== null ? `event ${goal.event_type}` : `page ${goal.page}`}
                        </span>
                        <button type="button" onClick={() => change(() => api.sites({ id: siteId }).goals({ goal_id: goal.goal_id }).delete())}>
                          Delete<span className="visually-hidden"> goal {goal.name}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                )
              }
            </RemoteContent>
            <GoalForm onAdd={(body) => change(() => api.sites({ id: siteId }).goals.post(body))} />
          </section>
          <section aria-label="Funnels">
            <h3>Funnels</h3>
            <RemoteContent remote={funnels} height={80}>
              {({ funnels: list }) =>
                list.length === 0 ? (
                  <Empty>No funnels yet.</Empty>
                ) : (
                  <ul className="settings-list">
                    {list.map((funnel) => (
                      <li key={funnel.funnel_id} data-testid="settings-funnel" data-value={funnel.name}>
                        <span>
                          <strong>{funnel.name}</strong> · {funnel.steps.map((step) => step.name).join(' → ')}
                        </span>
                        <button type="button" onClick={() => change(() => api.sites({ id: siteId }).funnels({ funnel_id: funnel.funnel_id }).delete())}>
                          Delete<span className="visually-hidden"> funnel {funnel.name}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                )
              }
            </RemoteContent>
            <RemoteContent remote={goals} height={0}>
              {({ goals: list }) => <FunnelForm goals={list} onAdd={(body) => change(() => api.sites({ id: siteId }).funnels.post(body))} />}
            </RemoteContent>
          </section>
        </div>
      </div>
    </Panel>
  )
}

/** The form keeps what was typed when the API refuses it, so it can be corrected. */
function GoalForm({ onAdd }: { onAdd: (body: { event_type?: string; page?: string; name?: string }) => Promise<boolean> }) {
  const [kind, setKind] = useState<'event_type' | 'page'>('event_type')
  const [value, setValue] = useState('')
  const [name, setName] = useState('')
  const ids = { kind: useId(), value: useId(), name: useId() }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!(await onAdd({ [kind]: value, ...(name ? { name } : {}) }))) return
    setValue('')
    setName('')
  }
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Add a goal">
      <label htmlFor={ids.kind}>Counts</label>
      <select id={ids.kind} value={kind} onChange={(event) => setKind(event.target.value as 'event_type' | 'page')}>
        <option value="event_type">events of type</option>
        <option value="page">page views of</option>
      </select>
      <label htmlFor={ids.value}>{kind === 'page' ? 'Page (* matches anything)' : 'Event type'}</label>
      <input id={ids.value} value={value} required onChange={(event) => setValue(event.target.value)} placeholder={kind === 'page' ? '/blog/*' : 'signup'} />
      <label htmlFor={ids.name}>Name (optional)</label>
      <input id={ids.name} value={name} onChange={(event) => setName(event.target.value)} />
      <button type="submit">Add goal</button>
    </form>
  )
}

function FunnelForm({ goals, onAdd }: { goals: Goal[]; onAdd: (body: { name: string; steps: string[] }) => Promise<boolean> }) {
  const [name, setName] = useState('')
  const [steps, setSteps] = useState<string[]>(['', ''])
  const nameId = useId()
  if (goals.length === 0) return <Empty>A funnel is made of goals: add some first.</Empty>
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!(await onAdd({ name, steps: steps.map((step) => step || goals[0]!.goal_id) }))) return
    setName('')
    setSteps(['', ''])
  }
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Add a funnel">
      <label htmlFor={nameId}>Funnel name</label>
      <input id={nameId} value={name} required onChange={(event) => setName(event.target.value)} />
      {steps.map((step, index) => (
        <label key={index} className="settings-step">
          Step {index + 1}{' '}
          <select value={step || goals[0]!.goal_id} onChange={(event) => setSteps(steps.map((old, i) => (i === index ? event.target.value : old)))}>
            {goals.map((goal) => (
              <option key={goal.goal_id} value={goal.goal_id}>
                {goal.name}
              </option>
            ))}
          </select>
        </label>
      ))}
      {steps.length < 8 && (
        <button type="button" onClick={() => setSteps([...steps, ''])}>
          Add a step
        </button>
      )}
      <button type="submit">Add funnel</button>
    </form>
  )
}
