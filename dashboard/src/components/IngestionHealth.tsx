import { formatCount } from '../format'
import { useLedger } from '../hooks/useLedger'
import { useQueueHealth } from '../hooks/useQueueHealth'
import { Empty, Panel, RemoteContent } from './Panel'

/** Count cells of a <dl>; `testId` lets the browser tests read each number. */
function Count({ label, value, testId, alert = false }: { label: string; value: number; testId: string; alert?: boolean }) {
  return (
    <div className={alert && value > 0 ? 'count-alert' : undefined}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{formatCount(value)}</dd>
    </div>
  )
}

/**
 * Whether this site's events get in: the ledger (all time, this site) and the queue (shared by
 * all sites). Refused and failed counts above zero stand out.
 */
export function IngestionHealth({ siteId }: { siteId: string }) {
  const ledger = useLedger(siteId)
  const queue = useQueueHealth()
  return (
    <Panel title="Ingestion health" aside={<a href="/admin/queues">Queue board</a>}>
      <h3 className="subheading">This site, all time</h3>
      <RemoteContent remote={ledger} height={64}>
        {({ sites }) => {
          const site = sites.find((entry) => entry.site_id === siteId)
          if (!site) return <Empty>No events received for this site yet.</Empty>
          return (
            <>
              <dl className="counts counts-4">
                <Count label="Accepted" value={site.accepted} testId="ledger-accepted" />
                <Count label="Written" value={site.written} testId="ledger-written" />
                <Count label="Duplicates" value={site.duplicates} testId="ledger-duplicates" />
                <Count label="Refused" value={site.refused} testId="ledger-refused" alert />
              </dl>
              {site.refused_by_reason.length > 0 && (
                <ul className="reasons" aria-label="Refused, by reason">
                  {site.refused_by_reason.map(({ reason, count }) => (
                    <li key={reason}>
                      <span className="reason">{reason}</span> <span className="reason-count">{formatCount(count)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )
        }}
      </RemoteContent>
      <h3 className="subheading">Queue, all sites</h3>
      <RemoteContent remote={queue} height={64}>
        {({ waiting, active, delayed, failed }) => (
          <dl className="counts counts-4">
            <Count label="Waiting" value={waiting} testId="queue-waiting" />
            <Count label="Active" value={active} testId="queue-active" />
            <Count label="Delayed" value={delayed} testId="queue-delayed" />
            <Count label="Failed" value={failed} testId="queue-failed" alert />
          </dl>
        )}
      </RemoteContent>
    </Panel>
  )
}
