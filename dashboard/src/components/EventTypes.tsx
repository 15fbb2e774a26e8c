import type { Remote } from '../hooks/useRemote'
import type { RangeStats } from '../hooks/useStats'
import { Empty, Panel, RemoteContent } from './Panel'
import { ShareTable } from './ShareTable'

/** Every event type in the range (page views, clicks, custom events) with its share of all events. */
export function EventTypes({ stats, onFilter }: { stats: Remote<RangeStats>; onFilter: (property: string, value: string) => void }) {
  return (
    <Panel title="Event types">
      <RemoteContent remote={stats} errorShownAbove>
        {({ event_types }) =>
          event_types.length === 0 ? (
            <Empty>No events in this period.</Empty>
          ) : (
            <ShareTable
              caption="Events by type"
              nameHeader="Event type"
              countHeader="Events"
              rows={event_types.map((row) => ({ name: row.event_type, count: row.count }))}
              total={event_types.reduce((sum, row) => sum + row.count, 0)}
              testId="event-type"
              onSelect={(value) => onFilter('event_type', value)}
            />
          )
        }
      </RemoteContent>
    </Panel>
  )
}
