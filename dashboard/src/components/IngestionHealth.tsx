import { formatCount } from '../format'
import { RECENT_HOURS, useLedger } from '../hooks/useLedger'
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

function Reasons({ reasons, label }: { reasons: { reason: string; count: number }[]; label: string }) {
  if (reasons.length === 0) return null
  return (
    <ul className="reasons" aria-label={label}>
      {reasons.map(({ reason, count }) => (
        <li key={reason}>
          <span className="reason">{reason}</span> <span className="reason-count">{formatCount(count)}</span>
        </li>
      ))}
    </ul>
  )
}

/** "Since Sat 14:00": the first hour the recent refusals count from, in this browser's zone. */
const sinceFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/**
 * Whether this site's events get in: refusals of the last 24 hours by reason (they stand out while
 * there are any), the ledger's all-time counts with a link to the ledger itself, and the queue
 * (shared by all sites), whose failed jobs stand out.
 */
export function IngestionHealth({ siteId }: { siteId: string }) {
  const ledger = useLedger(siteId)
  const queue = useQueueHealth()
  const ledgerUrl = `/ingest/ledger?site_id=${encodeURIComponent(siteId)}&recent_hours=${RECENT_HOURS}`
  return (
    <Panel title="Ingestion health" aside={<a href="/admin/queues">Queue board</a>}>
      <RemoteContent remote={ledger} height={64}>
        {({ sites }) => {
          const site = sites.find((entry) => entry.site_id === siteId)
          if (!site) return <Empty>No events received for this site yet.</Empty>
          const recent = site.recent ?? { hours: RECENT_HOURS, since: '', refused: 0, refused_by_reason: [] }
          return (
            <>
              <h3 className="subheading">Refused, last {recent.hours} hours</h3>
              <dl className="counts">
                <Count
                  label={recent.since ? `Since ${sinceFormat.format(new Date(recent.since))}` : 'Refused'}
                  value={recent.refused}
                  testId="ledger-recent-refused"
                  alert
                />
              </dl>
              <Reasons reasons={recent.refused_by_reason} label={`Refused in the last ${recent.hours} hours, by reason`} />
              <h3 className="subheading">This site, all time</h3>
              <dl className="counts counts-4">
                <Count label="Accepted" value={site.accepted} testId="ledger-accepted" />
                <Count label="Written" value={site.written} testId="ledger-written" />
                <Count label="Duplicates" value={site.duplicates} testId="ledger-duplicates" />
                <Count label="Refused" value={site.refused} testId="ledger-refused" />
              </dl>
              <Reasons reasons={site.refused_by_reason} label="Refused, by reason" />
            </>
          )
        }}
      </RemoteContent>
      <p className="note">
        <a href={ledgerUrl} data-testid="ledger-link">
          The ledger
        </a>{' '}
        has every count, by site and reason (JSON).
      </p>
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
