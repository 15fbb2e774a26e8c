import { formatRange, type DateRange } from '../dates'
import { formatCount } from '../format'
import { useTimeseries } from '../hooks/useTimeseries'
import { TrafficChart } from './Charts'
import { Empty, Panel, RemoteContent } from './Panel'

/**
 * Views and unique users over the range, per hour for a day or two and per day beyond.
 * `questionRefused`: the same range was refused for the other panels, and the reason is shown above.
 */
export function TrafficPanel({
  siteId,
  range,
  timeZone,
  interval,
  questionRefused,
}: {
  siteId: string
  range: DateRange
  timeZone: string
  interval: 'hour' | 'day'
  questionRefused: boolean
}) {
  const series = useTimeseries({ siteId, ...range, tz: timeZone, interval })
  const per = interval === 'hour' ? 'hour' : 'day'
  return (
    <Panel title="Traffic" aside={`per ${per} · ${timeZone}`} className="panel-wide">
      <RemoteContent remote={series} height={300} errorShownAbove={questionRefused}>
        {({ buckets }) => {
          const views = buckets.reduce((sum, bucket) => sum + bucket.views, 0)
          if (buckets.every((bucket) => bucket.views === 0 && bucket.unique_users === 0)) return <Empty>No traffic in this period.</Empty>
          const label = `Views and unique users per ${per}, ${formatRange(range)} in ${timeZone}: ${formatCount(views)} views in all.`
          return <TrafficChart buckets={buckets} interval={interval} timeZone={timeZone} label={label} />
        }}
      </RemoteContent>
    </Panel>
  )
}
