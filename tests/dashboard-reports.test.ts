/**
 * The dashboard's reports end to end: the metric strip, Sources, Pages, Locations and Devices with
 * each of their tabs and their Details views, and the traffic chart's visits. Events carrying
 * referrers, utm tags, screen widths, user agents and countries go in through POST /events; every
 * number the page shows is checked against the API's own answer to the query the page made.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join, resolve } from 'node:path'
import type { Browser, Page, Response } from 'playwright-core'
import { buildDashboard, launchChromium, settled, signedInPage } from './kit/browser'
import { startStack, uniqueName, type Stack } from './support'

const root = resolve(import.meta.dir, '..')

let stack: Stack
let browser: Browser

const site = uniqueName('reports')
const RANGE = `from=2025-11-10&to=2025-11-14`
/** More distinct pages than a details view lists, so it must stop at 100. */
const VISITORS = 130

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0',
]
const WIDTHS = [1920, 1440, 1280, 390, 412, 820]
const COUNTRIES = ['US', 'DE', 'FR', 'JP', 'BR', 'GB', 'IN', '']
const REFERRERS = [
  'https://www.google.com/',
  'https://news.ycombinator.com/',
  'https://t.co/abc',
  'https://duckduckgo.com/',
  'https://github.com/someone/repo',
  '',
  '',
]
const MEDIUMS = ['email', 'social', 'cpc', '']

/**
 * One visit per visitor: 1 to 3 page views a couple of minutes apart (so some bounce and the rest
 * last), the first carrying where it came from, every one carrying the browser's details.
 */
function visitEvents(visitor: number, day: string, hour: number, prefix: string): Record<string, unknown>[] {
  const views = (visitor % 3) + 1
  const referrer = REFERRERS[visitor % REFERRERS.length]!
  const medium = MEDIUMS[visitor % MEDIUMS.length]!
  const country = COUNTRIES[visitor % COUNTRIES.length]!
  const device = visitor % AGENTS.length
  const minute = (visitor * 7) % 50
  return Array.from({ length: views }, (_, view) => ({
    site_id: site,
    event_type: 'page_view',
    path: view === 0 ? `/article/${visitor}` : view === 1 ? '/pricing' : '/signup',
    user_id: `${prefix}${visitor}`,
    timestamp: `${day}T${String(hour).padStart(2, '0')}:${String(minute + view * 3).padStart(2, '0')}:${String((visitor * 13) % 60).padStart(2, '0')}Z`,
    user_agent: AGENTS[device],
    screen_width: WIDTHS[device],
    ...(country ? { country } : {}),
    ...(view === 0 && referrer ? { referrer } : {}),
    ...(view === 0 && medium ? { utm_medium: medium, utm_source: visitor % 2 ? 'newsletter' : 'partner', utm_campaign: `campaign-${visitor % 13}` } : {}),
  }))
}

function seed(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = []
  for (let visitor = 0; visitor < VISITORS; visitor++) events.push(...visitEvents(visitor, `2025-11-${10 + (visitor % 5)}`, 6 + (visitor % 12), 'v'))
  // The five days before, for the comparisons.
  for (let visitor = 0; visitor < 40; visitor++) events.push(...visitEvents(visitor, `2025-11-0${5 + (visitor % 5)}`, 6 + (visitor % 12), 'p'))
  return events
}

async function postEvents(events: unknown[]): Promise<void> {
  for (let start = 0; start < events.length; start += 1000) {
    const response = await stack.post('/events', { events: events.slice(start, start + 1000) })
    const body = (await response.json()) as { jobId: string; accepted: number; results: { status: string }[] }
    expect(response.status).toBe(202)
    expect(body.results.filter((result) => result.status !== 'accepted')).toEqual([])
    await stack.jobs.wait([body.jobId])
  }
}

beforeAll(
  async () => {
    stack = await startStack('dashboard_reports', { dashboardDir: await buildDashboard() })
    browser = await launchChromium()
    await postEvents(seed())
    await stack.flush()
  },
  { timeout: 120_000 },
)

afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

const visit = (viewport?: { width: number; height: number }) => signedInPage(browser, stack.baseUrl, stack.admin, viewport)

/** The next response of the page to `pathname` whose query has `params`. */
function responseTo(page: Page, pathname: string, params: Record<string, string> = {}): Promise<Response> {
  return page.waitForResponse(
    (response) => {
      const url = new URL(response.url())
      return url.pathname === pathname && Object.entries(params).every(([name, value]) => url.searchParams.get(name) === value)
    },
    { timeout: 10_000 },
  )
}

/** The API's answer to the very query the page sent (asked again, outside the browser). */
async function apiAnswer<T>(response: Response): Promise<{ query: Record<string, string>; body: T }> {
  const url = new URL(response.url())
  const answer = await stack.get(url.pathname + url.search)
  expect(answer.status).toBe(200)
  return { query: Object.fromEntries(url.searchParams), body: (await answer.json()) as T }
}

interface Totals {
  visitors: number
  visits: number
  total_views: number
  views_per_visit: number
  bounce_rate: number
  visit_duration: number
  unique_users: number
}

interface BreakdownRow {
  value: string
  visitors: number
  views: number
  visits?: number
  bounce_rate?: number
  visit_duration?: number
}

interface Breakdown {
  property: string
  results: BreakdownRow[]
}

/** The formats the brief asks for, written out again rather than imported, so a wrong formatter fails. */
const expectedDuration = (seconds: number) => {
  const hours = Math.floor(seconds / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  return hours > 0 ? `${hours}h ${minutes}m` : minutes > 0 ? `${minutes}m ${seconds % 60}s` : `${seconds}s`
}
const number = new Intl.NumberFormat('en-US')
const share = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 })
const regions = new Intl.DisplayNames(['en'], { type: 'region' })
const countryShown = (code: string) =>
  code === '(not set)' ? code : `${String.fromCodePoint(...Array.from(code, (c) => 0x1f1e6 + c.charCodeAt(0) - 65))}${regions.of(code)}`

const METRICS: [testId: string, key: keyof Totals, format: (value: number) => string][] = [
  ['headline-visitors', 'visitors', (value) => number.format(value)],
  ['headline-visits', 'visits', (value) => number.format(value)],
  ['headline-views', 'total_views', (value) => number.format(value)],
  ['headline-views-per-visit', 'views_per_visit', (value) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(value)],
  ['headline-bounce-rate', 'bounce_rate', (value) => `${value}%`],
  ['headline-visit-duration', 'visit_duration', expectedDuration],
  ['headline-users', 'unique_users', (value) => number.format(value)],
]

/** [data-value, name cell text, visitors cell text, share text] of each row of a panel's table. */
function shownRows(page: Page, testId: string): Promise<string[][]> {
  return page
    .getByTestId(testId)
    .locator(`[data-testid="${testId}-row"]`)
    .evaluateAll(
      (rows, id) =>
        rows.map((row) => [
          row.getAttribute('data-value') ?? '',
          row.querySelector(`[data-testid="${id}-name"]`)?.textContent ?? '',
          row.querySelector(`[data-testid="${id}-count"]`)?.textContent ?? '',
          row.querySelector('.share-value')?.textContent ?? '',
        ]),
      testId,
    )
}

/** The details dialog's rows: [data-value, name, then every figure cell by column]. */
function shownDetails(page: Page, testId: string): Promise<{ value: string; name: string; cells: Record<string, string> }[]> {
  return page.locator(`[data-testid="${testId}-details-row"]`).evaluateAll((rows) =>
    rows.map((row) => ({
      value: row.getAttribute('data-value') ?? '',
      name: row.querySelector('th')?.textContent ?? '',
      cells: Object.fromEntries(Array.from(row.querySelectorAll('td'), (cell) => [cell.getAttribute('data-column') ?? '', cell.textContent ?? ''])),
    })),
  )
}

function expectedDetails(
  property: string,
  rows: BreakdownRow[],
  name: (value: string) => string,
): { value: string; name: string; cells: Record<string, string> }[] {
  return rows.map((row) => {
    const cells: Record<string, string> =
      property === 'page'
        ? { visitors: number.format(row.visitors), views: number.format(row.views) }
        : {
            visitors: number.format(row.visitors),
            visits: number.format(row.visits!),
            views: number.format(row.views),
            bounce_rate: `${row.bounce_rate}%`,
            visit_duration: expectedDuration(row.visit_duration!),
          }
    return { value: row.value, name: name(row.value), cells }
  })
}

const PANELS: { testId: string; title: string; tabs: [label: string, property: string][]; name?: (value: string) => string }[] = [
  {
    testId: 'sources',
    title: 'Sources',
    tabs: [
      ['Sources', 'source'],
      ['Channels', 'channel'],
      ['Campaigns', 'utm_campaign'],
      ['Medium', 'utm_medium'],
    ],
  },
  {
    testId: 'pages',
    title: 'Pages',
    tabs: [
      ['Top', 'page'],
      ['Entry', 'entry_page'],
      ['Exit', 'exit_page'],
    ],
  },
  { testId: 'locations', title: 'Locations', tabs: [['Countries', 'country']], name: countryShown },
  {
    testId: 'devices',
    title: 'Devices',
    tabs: [
      ['Browser', 'browser'],
      ['OS', 'os'],
      ['Device', 'device'],
    ],
  },
]

describe('the dashboard reports', () => {
  test('the metric strip shows the range’s visitors, visits, views and their figures, against the period before', async () => {
    const { context, page, problems } = await visit()
    try {
      const current = responseTo(page, '/stats', { to: '2025-11-14' })
      const previous = responseTo(page, '/stats', { to: '2025-11-09' })
      await page.goto(`${stack.baseUrl}/?site=${site}&${RANGE}`)
      const now = await apiAnswer<Totals>(await current)
      const before = await apiAnswer<Totals>(await previous)
      expect(now.query).toEqual({ site_id: site, from: '2025-11-10', to: '2025-11-14', tz: 'UTC' })
      await settled(page)
      // The seed, so that matching zeros could not pass: one visit per visitor, 1 to 3 views each.
      const views = seed().filter((event) => String(event.timestamp) >= '2025-11-10').length
      expect(now.body).toMatchObject({ visitors: VISITORS, visits: VISITORS, total_views: views, views_per_visit: Math.round((views / VISITORS) * 100) / 100 })
      expect(now.body.bounce_rate).toBeGreaterThan(0)
      expect(now.body.visit_duration).toBeGreaterThan(0)
      for (const [testId, key, format] of METRICS) {
        expect([testId, await page.getByTestId(testId).textContent()]).toEqual([testId, format(now.body[key])])
        expect([testId, await page.getByTestId(`${testId}-previous`).textContent()]).toEqual([testId, format(before.body[key])])
      }
      // Bounce rate changes by points, and a rise of it is coloured as bad news.
      const bounce = now.body.bounce_rate - before.body.bounce_rate
      const bounceChange = page.getByTestId('headline-bounce-rate-change')
      expect(await bounceChange.textContent()).toBe(bounce === 0 ? 'No change' : bounce > 0 ? `+${bounce} pts` : `−${-bounce} pts`)
      if (bounce !== 0) expect(await bounceChange.getAttribute('class')).toContain(bounce > 0 ? 'trend-down' : 'trend-up')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  for (const panel of PANELS) {
    test(`${panel.title}: each tab shows the API’s top 10 by visitors, and Details lists up to 100 rows with every figure`, async () => {
      const { context, page, problems } = await visit()
      try {
        const stats = responseTo(page, '/stats', { to: '2025-11-14' })
        const first = responseTo(page, '/stats/breakdown', { property: panel.tabs[0]![1] })
        await page.goto(`${stack.baseUrl}/?site=${site}&${RANGE}`)
        const totals = (await apiAnswer<Totals>(await stats)).body
        let pending = first
        const region = page.getByRole('region', { name: panel.title })
        expect(await region.getByRole('heading', { name: panel.title }).count()).toBe(1)
        // The country data's licence asks for its credit where countries are shown.
        if (panel.testId === 'locations') expect(await region.getByRole('link', { name: 'NRO' }).getAttribute('href')).toBe('https://www.nro.net')
        for (const [index, [label, property]] of panel.tabs.entries()) {
          if (index > 0) {
            pending = responseTo(page, '/stats/breakdown', { property })
            await region.getByRole('tab', { name: label }).click()
          }
          const { query, body } = await apiAnswer<Breakdown>(await pending)
          expect(query).toEqual({ site_id: site, property, from: '2025-11-10', to: '2025-11-14', tz: 'UTC', limit: '10' })
          await settled(page)
          await page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-property') === want, [
            panel.testId,
            property,
          ] as const)
          if (panel.tabs.length > 1) {
            expect(await region.getByRole('tab', { selected: true }).allTextContents()).toEqual([label])
          }
          // Several rows of each, so the order and the numbers are really compared.
          expect([property, body.results.length]).toEqual([property, expect.any(Number)])
          expect(body.results.length).toBeGreaterThanOrEqual(property === 'page' || property === 'entry_page' ? 10 : 2)
          expect(await shownRows(page, panel.testId)).toEqual(
            body.results.map((row) => [
              row.value,
              (panel.name ?? String)(row.value),
              number.format(row.visitors),
              share.format(row.visitors / totals.visitors),
            ]),
          )

          // Details: the same query with limit=100, in a modal dialog.
          const more = responseTo(page, '/stats/breakdown', { property, limit: '100' })
          await region.getByRole('button', { name: 'Details' }).click()
          const details = await apiAnswer<Breakdown>(await more)
          const dialog = page.getByRole('dialog', { name: `${panel.title}: ${label}` })
          await dialog.waitFor()
          await settled(page)
          if (property === 'page' || property === 'entry_page') expect(details.body.results).toHaveLength(100)
          expect(details.body.results.length).toBeLessThanOrEqual(100)
          expect(await shownDetails(page, panel.testId)).toEqual(expectedDetails(property, details.body.results, panel.name ?? String))
          // Escape closes it, and focus goes back to the button that opened it.
          await page.keyboard.press('Escape')
          await dialog.waitFor({ state: 'detached' })
          expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Details')
        }
        expect(problems).toEqual([])
      } finally {
        await context.close()
      }
    })
  }

  test('tabs move with the arrow keys, and a phone fits the panels and the details view without sideways scrolling', async () => {
    const viewport = { width: 375, height: 812 }
    const { context, page, problems } = await visit(viewport)
    try {
      await page.goto(`${stack.baseUrl}/?site=${site}&${RANGE}`)
      await settled(page)
      const sources = page.getByRole('region', { name: 'Sources' })
      const channels = responseTo(page, '/stats/breakdown', { property: 'channel' })
      await sources.getByRole('tab', { name: 'Sources' }).focus()
      await page.keyboard.press('ArrowRight')
      await channels
      expect(await sources.getByRole('tab', { selected: true }).textContent()).toBe('Channels')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Channels')
      await page.keyboard.press('End')
      expect(await sources.getByRole('tab', { selected: true }).textContent()).toBe('Medium')
      await settled(page)
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)

      await page.getByRole('region', { name: 'Pages' }).getByRole('button', { name: 'Details' }).click()
      const dialog = page.getByRole('dialog', { name: 'Pages: Top' })
      await dialog.waitFor()
      await settled(page)
      const box = await dialog.boundingBox()
      expect(box!.x).toBeGreaterThanOrEqual(0)
      expect(box!.x + box!.width).toBeLessThanOrEqual(viewport.width)
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
      await page.screenshot({ path: join(root, '.artifacts', 'dashboard-details-phone.png') })
      await dialog.getByRole('button', { name: 'Close' }).click()
      await dialog.waitFor({ state: 'detached' })
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the traffic chart switches to visits and visitors, summing the API’s buckets', async () => {
    const { context, page, problems } = await visit()
    try {
      const series = responseTo(page, '/stats/timeseries')
      await page.goto(`${stack.baseUrl}/?site=${site}&${RANGE}`)
      const { body } = await apiAnswer<{ buckets: { views: number; visits: number; visitors: number }[] }>(await series)
      await settled(page)
      const views = body.buckets.reduce((sum, bucket) => sum + bucket.views, 0)
      const visits = body.buckets.reduce((sum, bucket) => sum + bucket.visits, 0)
      expect(visits).toBe(VISITORS)
      const traffic = page.getByRole('region', { name: 'Traffic' })
      expect(await traffic.getByRole('img').getAttribute('aria-label')).toContain(`${number.format(views)} views in all`)
      await traffic.getByRole('tab', { name: 'Visitors & visits' }).click()
      const chart = traffic.getByRole('img', { name: /^Visits and visitors per day/ })
      expect(await chart.getAttribute('aria-label')).toContain(`${number.format(visits)} visits in all`)
      expect(await chart.locator('canvas').count()).toBe(1)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})
