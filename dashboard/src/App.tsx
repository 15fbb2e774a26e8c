import { useEffect, useState, type ReactNode } from 'react'
import { formatRange, intervalFor, previousPeriod, previousPeriodLabel, resolveRange, type DateRange } from './dates'
import { ConversionSettings } from './components/ConversionSettings'
import { FunnelsPanel, GoalsPanel } from './components/Conversions'
import { EventTypes } from './components/EventTypes'
import { FilterBar } from './components/FilterBar'
import { Headline } from './components/Headline'
import { IngestionHealth } from './components/IngestionHealth'
import { Empty, RemoteContent } from './components/Panel'
import { RangePicker } from './components/RangePicker'
import { RealtimePanel } from './components/RealtimePanel'
import { DevicesPanel, LocationsPanel, PagesPanel, SourcesPanel } from './components/Reports'
import { SitePicker } from './components/SitePicker'
import { TimeZonePicker } from './components/TimeZonePicker'
import { TrafficPanel } from './components/TrafficPanel'
import { useSites, type Site } from './hooks/useSites'
import { useStats } from './hooks/useStats'
import { useUrlView, type View } from './urlView'
import { withFilter, withoutFilter } from './filters'

/** A site named in the URL but unknown to the API has no zone of its own yet. */
const FALLBACK_ZONE = 'UTC'

export function App() {
  const [view, setView] = useUrlView()
  const sites = useSites()
  return (
    <div className="app">
      <RemoteContent remote={sites} height={240}>
        {(data) => <Dashboard sites={data.sites} view={view} onViewChange={setView} />}
      </RemoteContent>
    </div>
  )
}

function Dashboard({ sites, view, onViewChange }: { sites: Site[]; view: View; onViewChange: (next: View, history?: 'push' | 'replace') => void }) {
  const siteId = view.site ?? sites[0]?.site_id ?? null
  // A link without a site shows the first one; name it in the URL so the link keeps showing it.
  useEffect(() => {
    if (siteId && !view.site) onViewChange({ ...view, site: siteId }, 'replace')
  }, [siteId, view, onViewChange])

  if (siteId === null) {
    return (
      <>
        <TopBar />
        <Empty>
          No site has sent events yet. Embed the tracker, <code>{'<script defer src="/script.js" data-site="my-site"></script>'}</code>, and its first page view
          brings the site here.
        </Empty>
      </>
    )
  }
  // The API answers in the zone its rollups are in by default: the site's zone, but for the time a
  // change of zone takes to rebuild them. Defaulting to it keeps every default question answerable.
  const siteZone = sites.find((site) => site.site_id === siteId)?.rollup_timezone ?? FALLBACK_ZONE
  const timeZone = view.tz ?? siteZone
  const range = resolveRange(view.range, timeZone)
  return (
    <>
      <TopBar>
        <SitePicker sites={sites} value={siteId} onChange={(site) => onViewChange({ ...view, site })} />
      </TopBar>
      <div className="toolbar">
        <RangePicker choice={view.range} resolved={range} onChange={(choice) => onViewChange({ ...view, range: choice })} />
        <TimeZonePicker value={view.tz} siteZone={siteZone} onChange={(tz) => onViewChange({ ...view, tz })} />
      </div>
      <p className="period" data-testid="period">
        {formatRange(range)} · {timeZone}
      </p>
      <FilterBar filters={view.filters} onRemove={(expression) => onViewChange({ ...view, filters: withoutFilter(view.filters, expression) })} />
      <SiteView
        siteId={siteId}
        range={range}
        timeZone={timeZone}
        filters={view.filters}
        onFilter={(property, value) => onViewChange({ ...view, filters: withFilter(view.filters, property, value) })}
      />
    </>
  )
}

function TopBar({ children }: { children?: ReactNode }) {
  return (
    <header className="topbar">
      <h1>
        <span className="logo" aria-hidden="true" />
        Analytics
      </h1>
      {children}
    </header>
  )
}

/**
 * Every panel for one site, range and zone. The range's stats feed several panels (the reports
 * take their visitor total as the whole of their shares), so they are asked once, and when the API refuses the range (say, a zone it cannot answer exactly) its reason is
 * shown once, above them all.
 */
function SiteView({
  siteId,
  range,
  timeZone,
  filters,
  onFilter,
}: {
  siteId: string
  range: DateRange
  timeZone: string
  filters: string | null
  onFilter: (property: string, value: string) => void
}) {
  const filtered = filters ? { filters } : {}
  const query = { siteId, ...range, tz: timeZone, ...filtered }
  const stats = useStats(query)
  const previous = useStats({ siteId, ...previousPeriod(range), tz: timeZone, ...filtered })
  // Bumped by every change to goals or funnels, so the panels that show them ask again.
  const [version, setVersion] = useState(0)
  return (
    <main className="grid">
      {stats.status === 'error' && (
        <p className="state state-error banner" role="alert">
          {stats.message}
        </p>
      )}
      <Headline current={stats} previous={previous} previousLabel={previousPeriodLabel(range)} />
      <TrafficPanel
        siteId={siteId}
        range={range}
        timeZone={timeZone}
        interval={intervalFor(range)}
        filters={filters ?? undefined}
        questionRefused={stats.status === 'error'}
      />
      <SourcesPanel query={query} stats={stats} onFilter={onFilter} />
      <PagesPanel query={query} stats={stats} onFilter={onFilter} />
      <LocationsPanel query={query} stats={stats} onFilter={onFilter} />
      <DevicesPanel query={query} stats={stats} onFilter={onFilter} />
      <GoalsPanel query={query} version={version} onFilter={onFilter} />
      <EventTypes stats={stats} onFilter={onFilter} />
      <FunnelsPanel query={query} version={version} />
      <RealtimePanel siteId={siteId} timeZone={timeZone} />
      <IngestionHealth siteId={siteId} />
      <ConversionSettings siteId={siteId} version={version} onChange={() => setVersion((old) => old + 1)} />
    </main>
  )
}
