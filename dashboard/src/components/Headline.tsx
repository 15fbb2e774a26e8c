import { formatCount, formatDecimal, formatDuration, formatPercent } from '../format'
import type { Remote } from '../hooks/useRemote'
import type { RangeStats } from '../hooks/useStats'
import { RemoteContent } from './Panel'

type Metric = 'visitors' | 'visits' | 'total_views' | 'views_per_visit' | 'bounce_rate' | 'visit_duration' | 'unique_users'

interface MetricSpec {
  key: Metric
  label: string
  testId: string
  format: (value: number) => string
  /** A rate already in percent changes by points: 40% → 50% is "+10 pts", not "+25%". */
  points?: boolean
  /** For bounce rate a rise is bad news, and is coloured so. */
  lowerIsBetter?: boolean
}

const METRICS: MetricSpec[] = [
  { key: 'visitors', label: 'Visitors', testId: 'headline-visitors', format: formatCount },
  { key: 'visits', label: 'Visits', testId: 'headline-visits', format: formatCount },
  { key: 'total_views', label: 'Views', testId: 'headline-views', format: formatCount },
  { key: 'views_per_visit', label: 'Views per visit', testId: 'headline-views-per-visit', format: formatDecimal },
  { key: 'bounce_rate', label: 'Bounce rate', testId: 'headline-bounce-rate', format: formatPercent, points: true, lowerIsBetter: true },
  { key: 'visit_duration', label: 'Visit duration', testId: 'headline-visit-duration', format: formatDuration },
  { key: 'unique_users', label: 'Unique users', testId: 'headline-users', format: formatCount },
]

type Trend = 'up' | 'down' | 'flat'

/** "+12%", "−8%", "+3 pts", or words when a percentage would mean nothing (nothing to compare with). */
function change(current: number, previous: number, points: boolean): { text: string; direction: Trend } {
  if (current === previous) return { text: 'No change', direction: 'flat' }
  if (points) {
    const difference = current - previous
    return difference > 0 ? { text: `+${difference} pts`, direction: 'up' } : { text: `−${-difference} pts`, direction: 'down' }
  }
  if (previous === 0) return { text: 'New', direction: 'up' }
  const percent = Math.round(((current - previous) / previous) * 100)
  if (percent === 0) return { text: current > previous ? '+<1%' : '−<1%', direction: 'flat' }
  return percent > 0 ? { text: `+${percent}%`, direction: 'up' } : { text: `−${-percent}%`, direction: 'down' }
}

/**
 * The numbers a person looks at first, each with its change against the period of the same
 * length just before. The comparison loads on its own: a failure there leaves the numbers shown.
 */
export function Headline({ current, previous, previousLabel }: { current: Remote<RangeStats>; previous: Remote<RangeStats>; previousLabel: string }) {
  return (
    <section className="headline" aria-label="Headline numbers">
      {METRICS.map((metric) => (
        <div className="metric" key={metric.key}>
          <h2 className="metric-label">{metric.label}</h2>
          <RemoteContent remote={current} errorShownAbove height={72}>
            {(stats) => (
              <>
                <p className="metric-value" data-testid={metric.testId}>
                  {metric.format(stats[metric.key])}
                </p>
                <Comparison current={stats[metric.key]} previous={previous} metric={metric} label={previousLabel} />
              </>
            )}
          </RemoteContent>
        </div>
      ))}
    </section>
  )
}

function Comparison({ current, previous, metric, label }: { current: number; previous: Remote<RangeStats>; metric: MetricSpec; label: string }) {
  if (previous.status === 'loading' || previous.status === 'idle') return <p className="metric-change">Comparing…</p>
  if (previous.status === 'error') return <p className="metric-change">No comparison: {previous.message}</p>
  const before = previous.data[metric.key]
  const { text, direction } = change(current, before, metric.points ?? false)
  const good = direction === 'flat' ? 'flat' : (direction === 'up') !== (metric.lowerIsBetter ?? false) ? 'up' : 'down'
  return (
    <p className="metric-change">
      <span className={`trend trend-${good}`} data-testid={`${metric.testId}-change`}>
        {text}
      </span>{' '}
      vs <span data-testid={`${metric.testId}-previous`}>{metric.format(before)}</span> {label}
    </p>
  )
}
