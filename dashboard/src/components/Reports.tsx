import { countryFlag, countryName } from '../format'
import type { Remote } from '../hooks/useRemote'
import type { RangeQuery, RangeStats } from '../hooks/useStats'
import { BreakdownPanel, type BreakdownTab } from './BreakdownPanel'

interface ReportProps {
  query: RangeQuery
  stats: Remote<RangeStats>
  onFilter: (property: string, value: string) => void
}

const SOURCE_TABS: BreakdownTab[] = [
  { key: 'source', label: 'Sources', nameHeader: 'Source' },
  { key: 'channel', label: 'Channels', nameHeader: 'Channel' },
  { key: 'utm_campaign', label: 'Campaigns', nameHeader: 'Campaign' },
  { key: 'utm_medium', label: 'Medium', nameHeader: 'Medium' },
]

const PAGE_TABS: BreakdownTab[] = [
  { key: 'page', label: 'Top', nameHeader: 'Page' },
  { key: 'entry_page', label: 'Entry', nameHeader: 'Entry page' },
  { key: 'exit_page', label: 'Exit', nameHeader: 'Exit page' },
]

const DEVICE_TABS: BreakdownTab[] = [
  { key: 'browser', label: 'Browser', nameHeader: 'Browser' },
  { key: 'os', label: 'OS', nameHeader: 'Operating system' },
  { key: 'device', label: 'Device', nameHeader: 'Device' },
]

const LOCATION_TABS: BreakdownTab[] = [{ key: 'country', label: 'Countries', nameHeader: 'Country' }]

/** Where visits came from: referring sites, channels, and the utm tags of their landing URLs. */
export function SourcesPanel(props: ReportProps) {
  return <BreakdownPanel title="Sources" tabs={SOURCE_TABS} testId="sources" empty="No visits in this period." {...props} />
}

/** The pages viewed most, and those visits began and ended on. */
export function PagesPanel(props: ReportProps) {
  return <BreakdownPanel title="Pages" tabs={PAGE_TABS} testId="pages" empty="No page views in this period." {...props} />
}

/** Countries by name, with their flag; the flag is decoration, so screen readers skip it. */
function country(code: string) {
  const flag = countryFlag(code)
  return (
    <>
      {flag && (
        <span className="flag" aria-hidden="true">
          {flag}
        </span>
      )}
      {countryName(code)}
    </>
  )
}

/** Countries from addresses come from registry data licensed CC BY 4.0, which asks for this credit. */
const COUNTRY_CREDIT = (
  <>
    Countries from IP addresses: data by{' '}
    <a href="https://www.nro.net" rel="noreferrer">
      NRO
    </a>{' '}
    (CC BY 4.0), via ip-location-db.
  </>
)

export function LocationsPanel(props: ReportProps) {
  return (
    <BreakdownPanel
      title="Locations"
      tabs={LOCATION_TABS}
      testId="locations"
      empty="No visits in this period."
      renderName={country}
      credit={COUNTRY_CREDIT}
      {...props}
    />
  )
}

export function DevicesPanel(props: ReportProps) {
  return <BreakdownPanel title="Devices" tabs={DEVICE_TABS} testId="devices" empty="No visits in this period." {...props} />
}
