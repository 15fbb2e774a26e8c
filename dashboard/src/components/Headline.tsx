import { formatCount } from '../format'
import type { Remote } from '../hooks/useRemote'
import type { RangeStats } from '../hooks/useStats'
import { RemoteContent } from './Panel'

type Metric = 'total_views' | 'unique_users'

const METRICS: { key: Metric; label: string; testId: string }[] = [
  { key: 'total_views', label: 'Views', testId: 'headline-views' },
  { key: 'unique_users', label: 'Unique users', testId: 'headline-users' },
]

/** "+12%", "−8%", or words when a percentage would mean nothing (nothing to compare with). */
function change(current: number, previous: number): { text: string; trend: 'up' | 'down' | 'flat' } {
  if (current === previous) return { text: 'No change', trend: 'flat' }
  if (previous === 0) return { text: 'New', trend: 'up' }
  const percent = Math.round(((current - previous) / previous) * 100)
  if (percent === 0) return { text: current > previous ? '+<1%' : '−<1%', trend: 'flat' }
  return percent > 0 ? { text: `+${percent}%`, trend: 'up' } : { text: `−${-percent}%`, trend: 'down' }
}

/**
 * The two numbers a person looks at first, each with its change against the period of the same
 * length just before. The comparison loads on its own: a failure there leaves the numbers shown.
 */
export function Headline({ current, previous, previousLabel }: { current: Remote<RangeStats>; previous: Remote<RangeStats>; previousLabel: string }) {
  return (
    <section className="headline" aria-label="Headline numbers">
      {METRICS.map(({ key, label, testId }) => (
        <div className="metric" key={key}>
          <h2 className="metric-label">{label}</h2>
          <RemoteContent remote={current} errorShownAbove height={72}>
            {(stats) => (
              <>
                <p className="metric-value" data-testid={testId}>
                  {formatCount(stats[key])}
                </p>
                <Comparison current={stats[key]} previous={previous} metric={key} label={previousLabel} testId={`${testId}-previous`} />
              </>
            )}
          </RemoteContent>
        </div>
      ))}
    </section>
  )
}

function Comparison({ current, previous, metric, label, testId }: { current: number; previous: Remote<RangeStats>; metric: Metric; label: string; testId: string }) {
  if (previous.status === 'loading' || previous.status === 'idle') return <p className="metric-change">Comparing…</p>
  if (previous.status === 'error') return <p className="metric-change">No comparison: {previous.message}</p>
  const before = previous.data[metric]
  const { text, trend } = change(current, before)
  return (
    <p className="metric-change">
      <span className={`trend trend-${trend}`}>{text}</span> vs <span data-testid={testId}>{formatCount(before)}</span> {label}
    </p>
  )
}
