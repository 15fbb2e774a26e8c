import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { formatCount, formatDuration, formatPercent } from '../format'
import { DETAILS_ROWS, PANEL_ROWS, useBreakdown, type BreakdownProperty, type BreakdownRow } from '../hooks/useBreakdown'
import type { Remote } from '../hooks/useRemote'
import type { RangeQuery, RangeStats } from '../hooks/useStats'
import { Empty, Panel, RemoteContent } from './Panel'
import { ShareTable } from './ShareTable'
import { Tabs, type Tab } from './Tabs'

export interface BreakdownTab extends Tab<BreakdownProperty> {
  /** The name column's header, e.g. "Source". */
  nameHeader: string
}

type VisitRow = Extract<BreakdownRow, { visits: number }>

/** Visit properties (sources, entry pages, browsers…) have visit figures; `page` has visitors and views only. */
const isVisitRow = (row: BreakdownRow): row is VisitRow => 'visits' in row

/**
 * A report of one property per tab, as Plausible lays them out: the top rows by visitors, each
 * with a bar of its share of the range's visitors, and a Details view listing up to 100 rows with
 * every figure. `stats` are the range's totals (its visitor count is the shares' whole).
 * `testId` + `-row`/`-name`/`-count` name the table's rows, + `-details` the details view.
 */
export function BreakdownPanel({
  title,
  tabs,
  query,
  stats,
  testId,
  empty,
  renderName,
  credit,
  onFilter,
}: {
  title: string
  tabs: BreakdownTab[]
  query: RangeQuery
  stats: Remote<RangeStats>
  testId: string
  empty: string
  renderName?: (value: string) => ReactNode
  /** Attribution the panel's data requires, shown under it. */
  credit?: ReactNode
  /** Clicking a row filters every panel by its value. */
  onFilter: (property: string, value: string) => void
}) {
  const [property, setProperty] = useState(tabs[0]!.key)
  const [detailsOpen, setDetailsOpen] = useState(false)
  const tab = tabs.find((candidate) => candidate.key === property) ?? tabs[0]!
  const breakdown = useBreakdown({ ...query, property: tab.key, limit: PANEL_ROWS })
  const panelId = useId()
  const refused = stats.status === 'error'
  return (
    <Panel title={title} aside={tabs.length > 1 && <Tabs tabs={tabs} value={tab.key} onChange={setProperty} label={`${title} by`} panelId={panelId} />}>
      <div role="tabpanel" id={panelId} aria-label={tab.label} data-testid={testId} data-property={tab.key}>
        <RemoteContent remote={stats} errorShownAbove height={200}>
          {(totals) => (
            <RemoteContent remote={breakdown} errorShownAbove={refused} height={200}>
              {({ results }) =>
                results.length === 0 ? (
                  <Empty>{empty}</Empty>
                ) : (
                  <>
                    <ShareTable
                      caption={`${title}: ${tab.label}, by visitors`}
                      nameHeader={tab.nameHeader}
                      countHeader="Visitors"
                      rows={results.map((row) => ({ name: row.value, count: row.visitors, label: renderName?.(row.value) }))}
                      total={totals.visitors}
                      testId={testId}
                      onSelect={(value) => onFilter(tab.key, value)}
                    />
                    <button type="button" className="details-button" onClick={() => setDetailsOpen(true)} data-testid={`${testId}-details-button`}>
                      Details
                    </button>
                  </>
                )
              }
            </RemoteContent>
          )}
        </RemoteContent>
      </div>
      {detailsOpen && (
        <Details title={title} tab={tab} query={query} testId={`${testId}-details`} renderName={renderName} onClose={() => setDetailsOpen(false)} />
      )}
      {credit && <p className="note">{credit}</p>}
    </Panel>
  )
}

/** Every figure of up to 100 rows, in a modal dialog (Escape or Close shuts it, focus returns to Details). */
function Details({
  title,
  tab,
  query,
  testId,
  renderName,
  onClose,
}: {
  title: string
  tab: BreakdownTab
  query: RangeQuery
  testId: string
  renderName?: (value: string) => ReactNode
  onClose: () => void
}) {
  const dialog = useRef<HTMLDialogElement>(null)
  const headingId = useId()
  const details = useBreakdown({ ...query, property: tab.key, limit: DETAILS_ROWS })
  useEffect(() => {
    const element = dialog.current
    if (element && !element.open) element.showModal()
  }, [])
  return (
    <dialog ref={dialog} className="details" aria-labelledby={headingId} onClose={onClose} data-testid={testId}>
      <header className="details-header">
        <h2 id={headingId}>
          {title}: {tab.label}
        </h2>
        <button type="button" className="details-close" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </header>
      <div className="details-body">
        <RemoteContent remote={details} height={300}>
          {({ results }) =>
            results.length === 0 ? (
              <Empty>Nothing in this period.</Empty>
            ) : (
              <DetailsTable
                nameHeader={tab.nameHeader}
                rows={results as BreakdownRow[]} // the panels ask for visit properties and pages, whose rows have views
                testId={testId}
                renderName={renderName}
                caption={`${title}: ${tab.label}, top ${DETAILS_ROWS}`}
              />
            )
          }
        </RemoteContent>
      </div>
    </dialog>
  )
}

function DetailsTable({
  nameHeader,
  rows,
  testId,
  renderName,
  caption,
}: {
  nameHeader: string
  rows: BreakdownRow[]
  testId: string
  renderName?: (value: string) => ReactNode
  caption: string
}) {
  const visits = rows.every(isVisitRow)
  const columns: { header: string; key: string; cell: (row: BreakdownRow) => string }[] = [
    { header: 'Visitors', key: 'visitors', cell: (row) => formatCount(row.visitors) },
    ...(visits ? [{ header: 'Visits', key: 'visits', cell: (row: BreakdownRow) => formatCount((row as VisitRow).visits) }] : []),
    { header: 'Views', key: 'views', cell: (row) => formatCount(row.views) },
    ...(visits
      ? [
          { header: 'Bounce rate', key: 'bounce_rate', cell: (row: BreakdownRow) => formatPercent((row as VisitRow).bounce_rate) },
          { header: 'Visit duration', key: 'visit_duration', cell: (row: BreakdownRow) => formatDuration((row as VisitRow).visit_duration) },
        ]
      : []),
  ]
  return (
    <table className="details-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{nameHeader}</th>
          {columns.map((column) => (
            <th scope="col" className="numeric" key={column.key}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.value} data-testid={`${testId}-row`} data-value={row.value}>
            <th scope="row" className="row-name" title={row.value}>
              {renderName?.(row.value) ?? row.value}
            </th>
            {columns.map((column) => (
              <td className="numeric" key={column.key} data-column={column.key}>
                {column.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
