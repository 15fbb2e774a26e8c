import type { Baseline } from '../components/Headline'
import { dayCount, elapsedPart, formatRange, hourIn, previousPeriod, previousPeriodLabel, type DateRange } from '../dates'
import type { Remote } from './useRemote'
import { useStats, type RangeQuery } from './useStats'
import { useTimeseries } from './useTimeseries'

const day = (date: string) => formatRange({ from: date, to: date })

/**
 * What the headline compares the range with. A range over by now compares with the whole period
 * of the same length before it. A range under way (today, the last 7 days…) compares with the part
 * of that period as far gone: its whole days, then the last one's hours up to the current hour,
 * counted whole since the API answers parts of days by the hour. Hours add up for views and
 * visits (a visit belongs to the hour it starts in), not for distinct visitors or per-visit
 * figures, so only those two are compared then, and the others say why not.
 */
export function useBaseline({ range, ...query }: Omit<RangeQuery, 'from' | 'to'> & { range: DateRange }, now: Date): Baseline {
  const part = elapsedPart(range, query.tz, now)
  const previous = previousPeriod(range)
  const whole = useStats(part ? null : { ...query, ...previous })
  const fullDays = useStats(part?.fullDays ? { ...query, ...part.fullDays } : null)
  const hours = useTimeseries(part ? { ...query, from: part.day, to: part.day, interval: 'hour' } : null)
  const days = dayCount(range)
  if (!part)
    return {
      remote: whole,
      label: previousPeriodLabel(range),
      detail: `Compared with ${formatRange(previous)}, the ${days === 1 ? 'day' : `${days} days`} before, in ${query.tz}.`,
      missing: '',
    }
  const end = `${String(part.throughHour + 1).padStart(2, '0')}:00`
  let remote: Remote<{ total_views: number; visits: number }>
  if (hours.status !== 'ready') remote = hours
  else if (fullDays.status === 'loading' || fullDays.status === 'error') remote = fullDays
  else {
    const counted = hours.data.buckets.filter((bucket) => hourIn(query.tz, new Date(bucket.start)) <= part.throughHour)
    const before = fullDays.status === 'ready' ? fullDays.data : { total_views: 0, visits: 0 }
    remote = {
      status: 'ready',
      data: {
        total_views: before.total_views + counted.reduce((sum, bucket) => sum + bucket.views, 0),
        visits: before.visits + counted.reduce((sum, bucket) => sum + bucket.visits, 0),
      },
    }
  }
  return {
    remote,
    label: days === 1 ? `the day before, until ${end}` : `in the same part of the previous ${days} days`,
    detail:
      `${formatRange(range)} until ${part.until} compared with ${day(previous.from)} 00:00 to ${day(part.day)} ${end}, in ${query.tz}: ` +
      'the API counts parts of days by the hour, so the current hour counts whole in the period before.',
    missing:
      `No like-for-like figure for part of a day: the API's hourly counts add up to views and visits, ` +
      `but not to distinct visitors or per-visit figures. ${formatRange(range)} is under way until ${part.until} (${query.tz}).`,
  }
}
