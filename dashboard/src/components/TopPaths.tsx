import type { Remote } from '../hooks/useRemote'
import { TOP_PATHS_LIMIT, type RangeStats } from '../hooks/useStats'
import { Empty, Panel, RemoteContent } from './Panel'
import { ShareTable } from './ShareTable'

/** The most viewed paths; shares are of all views in the range, not only of the rows listed. */
export function TopPaths({ stats }: { stats: Remote<RangeStats> }) {
  return (
    <Panel title="Top paths" aside={`top ${TOP_PATHS_LIMIT} by views`}>
      <RemoteContent remote={stats} errorShownAbove>
        {({ top_paths, total_views }) =>
          top_paths.length === 0 ? (
            <Empty>No page views in this period.</Empty>
          ) : (
            <ShareTable
              caption="Most viewed paths"
              nameHeader="Path"
              countHeader="Views"
              rows={top_paths.map((row) => ({ name: row.path, count: row.views }))}
              total={total_views}
              testId="top-path"
            />
          )
        }
      </RemoteContent>
    </Panel>
  )
}
