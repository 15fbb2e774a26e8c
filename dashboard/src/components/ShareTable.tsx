import type { ReactNode } from 'react'
import { formatCount, formatShare } from '../format'

export interface ShareRow {
  name: string
  count: number
  /** What the name cell shows instead of `name` (a flag and a country's name for its code). */
  label?: ReactNode
}

/**
 * A ranked table whose last column shows each row's share of `total` as a number and a bar.
 * `testId` + `-row`, `-name` and `-count` name the rows and their cells, for the browser tests;
 * a row's `data-value` is its name.
 */
export function ShareTable({
  caption,
  nameHeader,
  countHeader,
  rows,
  total,
  testId,
  onSelect,
}: {
  caption: string
  nameHeader: string
  countHeader: string
  rows: ShareRow[]
  total: number
  testId: string
  /** Makes each name a button that filters every panel by it. */
  onSelect?: (name: string) => void
}) {
  return (
    <table className="share-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{nameHeader}</th>
          <th scope="col" className="numeric">
            {countHeader}
          </th>
          <th scope="col" className="share-column">
            Share
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const share = total > 0 ? row.count / total : 0
          return (
            <tr key={row.name} data-testid={`${testId}-row`} data-value={row.name}>
              <th scope="row" className="row-name" title={row.name} data-testid={`${testId}-name`}>
                {onSelect ? (
                  <button type="button" className="row-filter" onClick={() => onSelect(row.name)} aria-label={`Filter by ${row.name}`}>
                    {row.label ?? row.name}
                  </button>
                ) : (
                  (row.label ?? row.name)
                )}
              </th>
              <td className="numeric" data-testid={`${testId}-count`}>
                {formatCount(row.count)}
              </td>
              <td className="share-column">
                <div className="share-cell">
                  <span className="share">
                    <span className="share-bar" style={{ width: `${share * 100}%` }} />
                  </span>
                  <span className="share-value">{formatShare(share)}</span>
                </div>
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
