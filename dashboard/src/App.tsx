import { useEffect, useState, type ReactNode } from 'react'
import { formatRange, intervalFor, resolveRange, type DateRange } from './dates'
import { ConversionSettings } from './components/ConversionSettings'
import { FunnelsPanel, GoalsPanel } from './components/Conversions'
import { EventTypes } from './components/EventTypes'
import { ExportButton } from './components/ExportButton'
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
import { UrlNotices } from './components/UrlNotices'
import { useBaseline } from './hooks/useBaseline'
import { useNow } from './hooks/useNow'
import { MAIN_REFRESH_MS } from './hooks/useRemote'
import { useSites, type Site } from './hooks/useSites'
import { useAccount, type Account } from './hooks/useAccount'
import { useSettled } from './hooks/useRemote'
import { AccountMenu } from './components/AccountMenu'
import { ShareGate } from './components/ShareGate'
import { SiteSettings } from './components/SiteSettings'
import { UsersSettings } from './components/UsersSettings'
import { sharedToken } from './shared'
import { useStats } from './hooks/useStats'
import { defaultSite, rememberSite } from './lastSite'
import { useUrlView, type UrlNotice, type View } from './urlView'
import { withFilter, withoutFilter } from './filters'

/** A site named in the URL but unknown to the API has no zone of its own yet. */
const FALLBACK_ZONE = 'UTC'

/** Who is looking: a signed-in account, or the holder of a shared link (one site, nothing else). */
export type Who = { kind: 'account'; account: Account } | { kind: 'shared' }

export function App() {
  const [view, setView, notices] = useUrlView()
  return (
    <div className="app">
      {sharedToken === null ? (
        <AccountDashboard view={view} notices={notices} onViewChange={setView} />
      ) : (
        <ShareGate token={sharedToken}>
          {(opening) => (
            <Dashboard
              sites={[opening.site ?? unknownSite(opening.site_id)]}
              view={{ ...view, site: opening.site_id }}
              notices={notices}
              onViewChange={setView}
              who={{ kind: 'shared' }}
              page="dashboard"
            />
          )}
        </ShareGate>
      )}
    </div>
  )
}

/** A site with no events yet, as the site list would show it. */
const unknownSite = (siteId: string): Site => ({
  site_id: siteId,
  timezone: FALLBACK_ZONE,
  rollup_timezone: FALLBACK_ZONE,
  first_event_at: null,
  last_event_at: null,
  total_events: 0,
  total_views: 0,
})

function AccountDashboard({
  view,
  notices,
  onViewChange,
}: {
  view: View
  notices: UrlNotice[]
  onViewChange: (next: View, history?: 'push' | 'replace') => void
}) {
  const account = useAccount()
  const [sitesVersion, setSitesVersion] = useState(0)
  // Asked again after a zone change; the page stays as it is until the new list arrives.
  const sites = useSettled(useSites(sitesVersion))
  const page = useHashPage()
  return (
    <RemoteContent remote={account} height={0}>
      {(me) => (
        <RemoteContent remote={sites} height={240}>
          {(data) =>
            page === 'users' && me.role === 'admin' ? (
              <>
                <TopBar>
                  <AccountMenu account={me} page={page} />
                </TopBar>
                <UsersSettings sites={data.sites} me={me.username} />
              </>
            ) : (
              <Dashboard
                sites={data.sites}
                view={view}
                notices={notices}
                onViewChange={onViewChange}
                who={{ kind: 'account', account: me }}
                page={page}
                onSitesChanged={() => setSitesVersion((old) => old + 1)}
              />
            )
          }
        </RemoteContent>
      )}
    </RemoteContent>
  )
}

/** The admin's pages, as the URL's fragment names them (`#settings`, `#users`); the dashboard otherwise. */
type Page = 'dashboard' | 'settings' | 'users'
function useHashPage(): Page {
  const read = (): Page => (window.location.hash === '#settings' ? 'settings' : window.location.hash === '#users' ? 'users' : 'dashboard')
  const [page, setPage] = useState(read)
  useEffect(() => {
    const onHashChange = () => setPage(read())
    window.addEventListener('hashchange', onHashChange)
    return () => window.removeEventListener('hashchange', onHashChange)
  }, [])
  return page
}

function Dashboard({
  sites,
  view,
  notices,
  onViewChange,
  who,
  page,
  onSitesChanged = () => {},
}: {
  sites: Site[]
  view: View
  notices: UrlNotice[]
  onViewChange: (next: View, history?: 'push' | 'replace') => void
  who: Who
  page: Page
  onSitesChanged?: () => void
}) {
  const siteId = view.site ?? defaultSite(sites)
  // Ticks with the panels' refresh, so "today" and the hour a partial day is compared up to move on.
  const now = useNow(MAIN_REFRESH_MS)
  // A link without a site shows the default one; name it in the URL so the link keeps showing it.
  useEffect(() => {
    if (siteId && !view.site) onViewChange({ ...view, site: siteId }, 'replace')
  }, [siteId, view, onViewChange])

  const menu = who.kind === 'account' && <AccountMenu account={who.account} page={page} />
  if (siteId === null) {
    return (
      <>
        <TopBar>{menu}</TopBar>
        <UrlNotices notices={notices} usedFor={(notice) => (notice.parameter === 'site' ? 'no site' : "each site's own zone")} />
        <Empty>
          No site has sent events yet. Embed the tracker,{' '}
          <code data-testid="tracker-snippet">{`<script defer src="${window.location.origin}/script.js" data-site="my-site"></script>`}</code>, and its first page view
          brings the site here.
        </Empty>
      </>
    )
  }
  // The API answers in the zone its rollups are in by default: the site's zone, but for the time a
  // change of zone takes to rebuild them. Defaulting to it keeps every default question answerable.
  const siteZone = sites.find((site) => site.site_id === siteId)?.rollup_timezone ?? FALLBACK_ZONE
  const timeZone = view.tz ?? siteZone
  const range = resolveRange(view.range, timeZone, now)
  return (
    <>
      <TopBar>
        {who.kind === 'account' ? (
          <SitePicker
            sites={sites}
            value={siteId}
            onChange={(site) => {
              rememberSite(site)
              onViewChange({ ...view, site })
            }}
          />
        ) : (
          <p className="shared-site" data-testid="shared-site">
            {siteId} · shared view
          </p>
        )}
        {menu}
      </TopBar>
      <UrlNotices notices={notices} usedFor={(notice) => (notice.parameter === 'site' ? siteId : `the site's zone (${siteZone})`)} />
      {page === 'settings' && who.kind === 'account' && who.account.role === 'admin' ? (
        <SiteSettings siteId={siteId} site={sites.find((site) => site.site_id === siteId)} onSitesChanged={onSitesChanged} />
      ) : (
        <>
          <div className="toolbar">
            <RangePicker choice={view.range} resolved={range} onChange={(choice) => onViewChange({ ...view, range: choice })} />
            <TimeZonePicker value={view.tz} siteZone={siteZone} range={range} onChange={(tz) => onViewChange({ ...view, tz })} />
            <ExportButton query={{ siteId, ...range, tz: timeZone, interval: intervalFor(range), ...(view.filters ? { filters: view.filters } : {}) }} />
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
            now={now}
            onFilter={(property, value) => onViewChange({ ...view, filters: withFilter(view.filters, property, value) })}
            who={who}
          />
        </>
      )}
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
  now,
  onFilter,
  who,
}: {
  siteId: string
  range: DateRange
  timeZone: string
  filters: string | null
  now: Date
  onFilter: (property: string, value: string) => void
  who: Who
}) {
  const admin = who.kind === 'account' && who.account.role === 'admin'
  const filtered = filters ? { filters } : {}
  const query = { siteId, ...range, tz: timeZone, ...filtered }
  const stats = useStats(query)
  const baseline = useBaseline({ siteId, range, tz: timeZone, ...filtered }, now)
  // Bumped by every change to goals or funnels, so the panels that show them ask again.
  const [version, setVersion] = useState(0)
  return (
    <main className="grid">
      {stats.status === 'error' && (
        <p className="state state-error banner" role="alert">
          {stats.message}
        </p>
      )}
      <Headline current={stats} baseline={baseline} />
      <TrafficPanel
        siteId={siteId}
        range={range}
        timeZone={timeZone}
        interval={intervalFor(range)}
        filters={filters ?? undefined}
        now={now}
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
      {/* The queue and the settings are the admins': viewers and shared links see the reports. */}
      {admin && <IngestionHealth siteId={siteId} />}
      {admin && <ConversionSettings siteId={siteId} version={version} onChange={() => setVersion((old) => old + 1)} />}
    </main>
  )
}
