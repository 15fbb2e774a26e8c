import { useId, useMemo, useState } from 'react'
import { formatRange, type DateRange } from '../dates'
import { formatCount } from '../format'
import { useTimeseries, type Timeseries } from '../hooks/useTimeseries'
import { TrafficChart, type TrafficLine } from './Charts'
import { Empty, Panel, RemoteContent } from './Panel'
import { Tabs } from './Tabs'

type Bucket = Timeseries['buckets'][number]
type Count = 'views' | 'unique_users' | 'visitors' | 'visits'

/** What the chart can plot: pairs of counts, the first of each shaded and summed in its label. */
const PAIRS = {
  views: {
    label: 'Views & users',
    lines: [
      ['views', 'Views'],
      ['unique_users', 'Unique users'],
    ],
  },
  visits: {
    label: 'Visitors & visits',
    lines: [
      ['visits', 'Visits'],
      ['visitors', 'Visitors'],
    ],
  },
} satisfies Record<string, { label: string; lines: [[Count, string], [Count, string]] }>
type Pair = keyof typeof PAIRS

/**
 * Views and unique users, or visits and visitors, over the range, per hour for a day or two and
 * per day beyond. `questionRefused`: the same range was refused for the other panels, and the
 * reason is shown above.
 */
export function TrafficPanel({
  siteId,
  range,
  timeZone,
  interval,
  filters,
  now,
  questionRefused,
}: {
  siteId: string
  range: DateRange
  timeZone: string
  interval: 'hour' | 'day'
  filters?: string
  now: Date
  questionRefused: boolean
}) {
  const series = useTimeseries({ siteId, ...range, tz: timeZone, interval, filters })
  const [pair, setPair] = useState<Pair>('views')
  const chartId = useId()
  const per = interval === 'hour' ? 'hour' : 'day'
  const tabs = (Object.keys(PAIRS) as Pair[]).map((key) => ({ key, label: PAIRS[key].label }))
  return (
    <Panel
      title="Traffic"
      aside={
        <div className="traffic-aside">
          <Tabs tabs={tabs} value={pair} onChange={setPair} label="Chart" panelId={chartId} />
          <span>
            per {per} · {timeZone}
          </span>
        </div>
      }
      className="panel-wide"
    >
      <div id={chartId} role="tabpanel" aria-label={PAIRS[pair].label}>
        <RemoteContent remote={series} height={300} errorShownAbove={questionRefused}>
          {({ buckets }) => <Traffic buckets={buckets} pair={pair} per={per} interval={interval} range={range} timeZone={timeZone} now={now} />}
        </RemoteContent>
      </div>
    </Panel>
  )
}

function Traffic({
  buckets,
  pair,
  per,
  interval,
  range,
  timeZone,
  now,
}: {
  buckets: Bucket[]
  pair: Pair
  per: string
  interval: 'hour' | 'day'
  range: DateRange
  timeZone: string
  now: Date
}) {
  const starts = useMemo(() => buckets.map((bucket) => bucket.start), [buckets])
  // Buckets that have not begun have no value yet, not zero: the lines stop at the current one.
  const nowMs = now.getTime()
  const lines = useMemo(
    () =>
      PAIRS[pair].lines.map(([key, label]) => ({
        label,
        values: buckets.map((bucket) => (Date.parse(bucket.start) > nowMs ? null : bucket[key])),
      })) as [TrafficLine, TrafficLine],
    [buckets, pair, nowMs],
  )
  if (buckets.every((bucket) => bucket.views === 0 && bucket.unique_users === 0 && bucket.visits === 0)) return <Empty>No traffic in this period.</Empty>
  const [first, second] = lines
  const total = first.values.reduce<number>((sum, value) => sum + (value ?? 0), 0)
  const label = `${first.label} and ${second.label.toLowerCase()} per ${per}, ${formatRange(range)} in ${timeZone}: ${formatCount(total)} ${first.label.toLowerCase()} in all.`
  return <TrafficChart starts={starts} lines={lines} interval={interval} timeZone={timeZone} label={label} />
}
