import { useId, useState } from 'react'
import { filterChips } from '../filters'
import { formatCount, formatRate } from '../format'
import { useFunnelReport, useFunnels } from '../hooks/useConversions'
import { DETAILS_ROWS, useBreakdown } from '../hooks/useBreakdown'
import type { Remote } from '../hooks/useRemote'
import type { RangeQuery } from '../hooks/useStats'
import { Empty, Panel, RemoteContent } from './Panel'
import { ShareTable } from './ShareTable'
import { Tabs } from './Tabs'

interface ConversionProps {
  query: RangeQuery
  /** Bumped when goals or funnels change. */
  version: number
  onFilter: (property: string, value: string) => void
}

/** A breakdown row of the goals or custom properties report, as the API answers it. */
type ConversionRow = { value: string; visitors: number; events: number; conversion_rate?: number }

/** A goals or custom properties breakdown, up to the details' 100 rows, through the panels' own hook. */
function useConversionBreakdown(query: RangeQuery & { property: 'goal' | 'props' | `props:${string}`; version: number }): Remote<ConversionRow[]> {
  const remote = useBreakdown({ ...query, limit: DETAILS_ROWS })
  return remote.status === 'ready' ? { status: 'ready', data: remote.data.results as ConversionRow[] } : remote
}

/**
 * Every goal with its converted visitors and rate; a goal's name filters every panel by it, and
 * while one is chosen the custom properties of the visits that converted are listed below.
 */
export function GoalsPanel({ query, version, onFilter }: ConversionProps) {
  const goals = useConversionBreakdown({ ...query, property: 'goal', version })
  const chosen = filterChips(query.filters ?? null).find((chip) => chip.property === 'goal' && chip.operator === 'is')
  return (
    <Panel title="Goals">
      <div data-testid="goals">
        <RemoteContent remote={goals} height={160}>
          {(rows) =>
            rows.length === 0 ? (
              <Empty>No goals yet: add one under Goals and funnels below.</Empty>
            ) : (
              <table className="share-table">
                <caption className="visually-hidden">Goals: converted visitors and conversion rate</caption>
                <thead>
                  <tr>
                    <th scope="col">Goal</th>
                    <th scope="col" className="numeric">
                      Visitors
                    </th>
                    <th scope="col" className="numeric">
                      Conversion
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <tr key={row.value} data-testid="goals-row" data-value={row.value}>
                      <th scope="row" className="row-name">
                        <button type="button" className="row-filter" onClick={() => onFilter('goal', row.value)} aria-label={`Filter by goal ${row.value}`}>
                          {row.value}
                        </button>
                      </th>
                      <td className="numeric" data-testid="goals-visitors">
                        {formatCount(row.visitors)}
                      </td>
                      <td className="numeric" data-testid="goals-rate">
                        {formatRate(row.conversion_rate ?? 0)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </RemoteContent>
        {chosen && <GoalProperties query={query} version={version} goal={chosen.values.join(' or ')} onFilter={onFilter} />}
      </div>
    </Panel>
  )
}

/** The custom property keys of the chosen goal's visits, one tab each, and the values of the chosen key. */
function GoalProperties({ query, version, goal, onFilter }: ConversionProps & { goal: string }) {
  const keys = useConversionBreakdown({ ...query, property: 'props', version })
  const [picked, setPicked] = useState<string | null>(null)
  const panelId = useId()
  return (
    <section className="goal-properties" data-testid="goal-properties" aria-label={`Custom properties of ${goal}`}>
      <h3>Custom properties · {goal}</h3>
      <RemoteContent remote={keys} height={80}>
        {(rows) => {
          if (rows.length === 0) return <Empty>These visits carry no custom properties.</Empty>
          const key = picked !== null && rows.some((row) => row.value === picked) ? picked : rows[0]!.value
          return (
            <>
              <Tabs tabs={rows.map((row) => ({ key: row.value, label: row.value }))} value={key} onChange={setPicked} label="Property" panelId={panelId} />
              <div id={panelId} role="tabpanel" aria-label={key}>
                <PropertyValues query={query} version={version} propertyKey={key} onFilter={onFilter} />
              </div>
            </>
          )
        }}
      </RemoteContent>
    </section>
  )
}

function PropertyValues({ query, version, propertyKey, onFilter }: ConversionProps & { propertyKey: string }) {
  const values = useConversionBreakdown({ ...query, property: `props:${propertyKey}`, version })
  return (
    <RemoteContent remote={values} height={120}>
      {(rows) => (
        <ShareTable
          caption={`Values of ${propertyKey}, by visitors`}
          nameHeader={propertyKey}
          countHeader="Visitors"
          rows={rows.map((row) => ({ name: row.value, count: row.visitors }))}
          total={rows.reduce((sum, row) => Math.max(sum, row.visitors), 0)}
          testId="prop-values"
          onSelect={(value) => onFilter(`props:${propertyKey}`, value)}
        />
      )}
    </RemoteContent>
  )
}

/** One funnel at a time: a bar per step, its visitors, its share of the first step's and the drop from the one before. */
export function FunnelsPanel({ query, version }: Omit<ConversionProps, 'onFilter'>) {
  const funnels = useFunnels({ siteId: query.siteId, version })
  const [picked, setPicked] = useState<string | null>(null)
  const pickerId = useId()
  return (
    <Panel title="Funnels" className="panel-wide">
      <div data-testid="funnels">
        <RemoteContent remote={funnels} height={160}>
          {({ funnels: list }) => {
            if (list.length === 0) return <Empty>No funnels yet: add one under Goals and funnels below.</Empty>
            const funnel = list.find((candidate) => candidate.funnel_id === picked) ?? list[0]!
            return (
              <>
                <label htmlFor={pickerId} className="inline-label">
                  Funnel
                </label>{' '}
                <select
                  id={pickerId}
                  className="funnel-picker"
                  value={funnel.funnel_id}
                  onChange={(event) => setPicked(event.target.value)}
                  data-testid="funnel-picker"
                >
                  {list.map((candidate) => (
                    <option key={candidate.funnel_id} value={candidate.funnel_id}>
                      {candidate.name}
                    </option>
                  ))}
                </select>
                <FunnelSteps query={query} version={version} funnelId={funnel.funnel_id} />
              </>
            )
          }}
        </RemoteContent>
      </div>
    </Panel>
  )
}

function FunnelSteps({ query, version, funnelId }: { query: RangeQuery; version: number; funnelId: string }) {
  const report = useFunnelReport({ ...query, funnelId, version })
  return (
    <RemoteContent remote={report} height={200}>
      {({ steps, funnel }) => (
        <ol className="funnel" aria-label={`${funnel}: visitors per step`}>
          {steps.map((step, index) => (
            <li key={index} className="funnel-step" data-testid="funnel-step">
              <div className="funnel-label">
                <span className="funnel-name" data-testid="funnel-step-name">
                  {index + 1}. {step.name}
                </span>
                <span>
                  <strong data-testid="funnel-step-visitors">{formatCount(step.visitors)}</strong> visitors ·{' '}
                  <span data-testid="funnel-step-rate">{formatRate(step.conversion_rate)}</span>
                  {index > 0 && (
                    <>
                      {' '}
                      · <span data-testid="funnel-step-dropoff">{formatCount(step.dropoff)}</span> dropped off
                    </>
                  )}
                </span>
              </div>
              <span className="share funnel-bar">
                <span className="share-bar" style={{ width: `${step.conversion_rate}%` }} />
              </span>
            </li>
          ))}
        </ol>
      )}
    </RemoteContent>
  )
}
