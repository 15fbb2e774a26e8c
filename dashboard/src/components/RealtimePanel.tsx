import { formatCount } from '../format'
import { REALTIME_REFRESH_MS, useRealtime } from '../hooks/useRealtime'
import { MinuteChart } from './Charts'
import { Panel, RemoteContent } from './Panel'

/** Last 5 minutes as numbers, last 30 minutes as bars; the hook refreshes it while the tab is visible. */
export function RealtimePanel({ siteId, timeZone }: { siteId: string; timeZone: string }) {
  const realtime = useRealtime(siteId)
  const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium', timeZone })
  return (
    <Panel title="Realtime" aside={<span className="live">refreshes every {REALTIME_REFRESH_MS / 1000} s</span>}>
      <RemoteContent remote={realtime} height={220}>
        {({ now, last_5_minutes, per_minute }) => (
          <>
            {/* Announced politely when the numbers change, not on every refresh of the chart. */}
            <dl className="counts" aria-live="polite" aria-atomic="true">
              <div>
                <dt>Events, last 5 min</dt>
                <dd data-testid="realtime-events">{formatCount(last_5_minutes.events)}</dd>
              </div>
              <div>
                <dt>Users, last 5 min</dt>
                <dd data-testid="realtime-users">{formatCount(last_5_minutes.unique_users)}</dd>
              </div>
            </dl>
            <MinuteChart
              minutes={per_minute}
              timeZone={timeZone}
              label={`Events per minute over the last 30 minutes: ${formatCount(per_minute.reduce((sum, entry) => sum + entry.events, 0))} in all.`}
            />
            <p className="note">
              As of{' '}
              <time dateTime={now} data-testid="realtime-as-of">
                {time.format(new Date(now))}
              </time>
            </p>
          </>
        )}
      </RemoteContent>
    </Panel>
  )
}
