import { formatCount, formatDecimal, formatDuration, formatPercent } from '../format'
import type { Remote } from '../hooks/useRemote'
import type { RangeStats } from '../hooks/useStats'
import { RemoteContent } from './Panel'

export type Metric = 'visitors' | 'visits' | 'total_views' | 'views_per_visit' | 'bounce_rate' | 'visit_duration' | 'unique_users'

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

/** What the headline compares with: some or all of the metrics, named for people. */
export interface Baseline {
  remote: Remote<Partial<Record<Metric, number>>>
  /** Follows "vs 12": "the day before", "yesterday until 15:00". */
  label: string
  /** The change's tooltip: exactly what is compared with what. */
  detail: string
  /** Why a metric the baseline lacks has no comparison. */
  missing: string
}

/**
 * The numbers a person looks at first, each with its change against the baseline (the period of
 * the same length just before, or its part as far gone as this one). The comparison loads on its
 * own: a failure there leaves the numbers shown.
 */
export function Headline({ current, baseline }: { current: Remote<RangeStats>; baseline: Baseline }) {
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
                <Comparison current={stats[metric.key]} baseline={baseline} metric={metric} />
              </>
            )}
          </RemoteContent>
        </div>
      ))}
    </section>
  )
}

function Comparison({ current, baseline, metric }: { current: number; baseline: Baseline; metric: MetricSpec }) {
  const previous = baseline.remote
  if (previous.status === 'loading' || previous.status === 'idle') return <p className="metric-change">Comparing…</p>
  if (previous.status === 'error') return <p className="metric-change">No comparison: {previous.message}</p>
  const before = previous.data[metric.key]
  if (before === undefined)
    return (
      <p className="metric-change" title={baseline.missing} data-testid={`${metric.testId}-change`}>
        No like-for-like comparison
      </p>
    )
  const { text, direction } = change(current, before, metric.points ?? false)
  const good = direction === 'flat' ? 'flat' : (direction === 'up') !== (metric.lowerIsBetter ?? false) ? 'up' : 'down'
  return (
    <p className="metric-change">
      <span className={`trend trend-${good}`} title={baseline.detail} data-testid={`${metric.testId}-change`}>
        {text}
      </span>{' '}
      vs <span data-testid={`${metric.testId}-previous`}>{metric.format(before)}</span> {baseline.label}
    </p>
  )
}
