/**
 * What a first look at the dashboard found, each mended and checked in Chromium: a period under
 * way compared with the same part of the one before, the chart's line stopping at the current
 * hour, panels that refresh every minute, refusals of the last 24 hours, the tracker snippet's
 * absolute URL, notices for link parameters that cannot be used, the 400-day limit, the favicon
 * and the default site, chart values on a touch screen, and axe-core's audit. The page's clock is
 * Playwright's fake one, set to NOW, so "today" is a day whose events the test chose.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page, Response } from 'playwright-core'
import { axeViolations, buildDashboard, launchChromium, settled, signedInPage } from './kit/browser'
import { startStack, uniqueName, type Stack } from './support'


let stack: Stack
let browser: Browser
let dashboardDir: string

/** The page's "now": 14:35 UTC on the 20th. */
const NOW = new Date('2025-11-20T14:35:00Z')
const site = uniqueName('defects')
/** Before `site` alphabetically, with an older last event. */
const older = uniqueName('archive')

interface SeedEvent {
  site_id: string
  event_type: string
  path: string
  user_id: string
  timestamp: string
}

const view = (user: string, timestamp: string, path = '/'): SeedEvent => ({ site_id: site, event_type: 'page_view', path, user_id: user, timestamp })

/**
 * Yesterday (the 19th) until 15:00, the end of the current hour: 3 views in 2 visits; after it,
 * 3 more views in 2 more visits. Today until now: 4 views in 2 visits.
 */
const EVENTS: SeedEvent[] = [
  view('y1', '2025-11-19T09:00:00Z'),
  view('y1', '2025-11-19T09:05:00Z', '/pricing'),
  view('y2', '2025-11-19T14:50:00Z'),
  view('y3', '2025-11-19T15:30:00Z'),
  view('y4', '2025-11-19T20:00:00Z'),
  view('y4', '2025-11-19T20:01:00Z'),
  view('t1', '2025-11-20T10:00:00Z'),
  view('t1', '2025-11-20T10:02:00Z'),
  view('t1', '2025-11-20T10:04:00Z'),
  view('t2', '2025-11-20T14:20:00Z'),
  { site_id: older, event_type: 'page_view', path: '/', user_id: 'o1', timestamp: '2025-11-01T12:00:00Z' },
]


beforeAll(
  async () => {
    dashboardDir = await buildDashboard()
    stack = await startStack('dashboard_defects', { dashboardDir })
    browser = await launchChromium()
    await stack.store(EVENTS)
    // Two refusals for the ledger: a bad timestamp and an unknown field.
    expect((await stack.post('/event', { ...view('x', 'yesterday') })).status).toBe(400)
    expect((await stack.post('/event', { ...view('x', '2025-11-20T10:00:00Z'), colour: 'red' })).status).toBe(400)
    await stack.flush()
  },
  { timeout: 120_000 },
)

afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

const visit = (viewport?: { width: number; height: number }, options = {}) => signedInPage(browser, stack.baseUrl, stack.admin, viewport, options)

/** A signed-in page whose clock is the fake one, at NOW. */
async function atNow(viewport?: { width: number; height: number }, options = {}) {
  const visited = await visit(viewport, options)
  await visited.page.clock.install({ time: NOW })
  return visited
}

/** The API's answer to `path`, asked outside the browser. */
async function apiJson<T>(path: string): Promise<T> {
  const response = await stack.get(path)
  expect(response.status).toBe(200)
  return (await response.json()) as T
}

const count = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, ''))
const shownCount = async (page: Page, testId: string) => count(await page.getByTestId(testId).textContent())

/**
 * Every request the page makes to the stats routes (path and query), and `until(check)`, which
 * resolves once a request has made `check` hold (or rejects after `timeout` ms).
 */
function recordStats(page: Page): { asked: string[]; until: (check: (asked: string[]) => boolean, timeout?: number) => Promise<void> } {
  const asked: string[] = []
  const waiters = new Set<() => void>()
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (!url.pathname.startsWith('/stats')) return
    asked.push(url.pathname + url.search)
    for (const wake of waiters) wake()
  })
  const until = (check: (asked: string[]) => boolean, timeout = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(wake)
        reject(new Error(`waited ${timeout} ms; the page asked ${asked.length} times`))
      }, timeout)
      const wake = () => {
        if (!check(asked)) return
        clearTimeout(timer)
        waiters.delete(wake)
        resolve()
      }
      waiters.add(wake)
      wake()
    })
  return { asked, until }
}

const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((value) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value })
    document.dispatchEvent(new Event('visibilitychange'))
  }, hidden)

/**
 * The traffic chart's legend value of its first line (views) with the cursor over bucket `index`
 * of `buckets`, reached by `point` (a mouse move or a tap at that spot).
 */
async function chartValueAt(page: Page, index: number, buckets: number, point: (x: number, y: number) => Promise<void>): Promise<string> {
  const chart = page.getByRole('img', { name: /^Views and unique users/ })
  await chart.scrollIntoViewIfNeeded()
  const box = (await chart.locator('.u-over').boundingBox())!
  await point(box.x + (box.width * index) / (buckets - 1), box.y + box.height / 2)
  return (await chart.locator('.u-legend .u-series').nth(1).locator('.u-value').textContent()) ?? ''
}

describe('a period under way', () => {
  test('today until now is compared with yesterday up to the end of the current hour, and the change says so', async () => {
    const { context, page, problems } = await atNow()
    try {
      const { asked } = recordStats(page)
      await page.goto(`${stack.baseUrl}/?site=${site}&range=today`)
      await settled(page)
      // The previous day is asked by the hour, not as a whole day.
      const hourly = `/stats/timeseries?site_id=${site}&from=2025-11-19&to=2025-11-19&tz=UTC&interval=hour`
      expect(asked).toContain(hourly)
      expect(asked.filter((path) => path.startsWith('/stats?') && path.includes('from=2025-11-19'))).toEqual([])

      const today = await apiJson<{ total_views: number; visits: number }>(`/stats?site_id=${site}&from=2025-11-20&to=2025-11-20&tz=UTC`)
      const hours = await apiJson<{ buckets: { start: string; views: number; visits: number }[] }>(hourly)
      const upTo15 = hours.buckets.filter((bucket) => bucket.start < '2025-11-19T15:00:00.000Z')
      const sum = (key: 'views' | 'visits') => upTo15.reduce((total, bucket) => total + bucket[key], 0)
      // The seeded day, so a wrong cut could not pass by agreeing with a wrong API question.
      expect([today.total_views, sum('views'), today.visits, sum('visits')]).toEqual([4, 3, 2, 2])

      expect(await shownCount(page, 'headline-views')).toBe(today.total_views)
      expect(await shownCount(page, 'headline-views-previous')).toBe(sum('views'))
      expect(await page.getByTestId('headline-views-change').textContent()).toBe('+33%')
      expect(await shownCount(page, 'headline-visits-previous')).toBe(sum('visits'))
      expect(await page.getByTestId('headline-visits-change').textContent()).toBe('No change')
      const title = await page.getByTestId('headline-views-change').getAttribute('title')
      expect(title).toBe(
        'Nov 20, 2025 until 14:35 compared with Nov 19, 2025 00:00 to Nov 19, 2025 15:00, in UTC: ' +
          'the API counts parts of days by the hour, so the current hour counts whole in the period before.',
      )
      expect(await page.getByText('the day before, until 15:00').count()).toBe(2)
      // Distinct visitors do not add up over hours: no number pretends to compare them.
      const visitors = page.getByTestId('headline-visitors-change')
      expect(await visitors.textContent()).toBe('No like-for-like comparison')
      expect(await visitors.getAttribute('title')).toContain('hourly counts add up to views and visits')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the last 7 days compare with whole days of the 7 before, then the hours of the last one so far', async () => {
    const { context, page, problems } = await atNow()
    try {
      const { asked } = recordStats(page)
      await page.goto(`${stack.baseUrl}/?site=${site}&range=7d`)
      await settled(page)
      expect(asked).toContain(`/stats?site_id=${site}&from=2025-11-07&to=2025-11-12&tz=UTC`)
      expect(asked).toContain(`/stats/timeseries?site_id=${site}&from=2025-11-13&to=2025-11-13&tz=UTC&interval=hour`)
      expect(await page.getByTestId('headline-views-change').getAttribute('title')).toStartWith(
        'Nov 14 – 20, 2025 until 14:35 compared with Nov 7, 2025 00:00 to Nov 13, 2025 15:00, in UTC',
      )
      // A range that is over compares with the whole period before, and says which.
      await page.goto(`${stack.baseUrl}/?site=${site}&from=2025-11-19&to=2025-11-19`)
      await settled(page)
      expect(await shownCount(page, 'headline-views-previous')).toBe(0)
      expect(await page.getByTestId('headline-views-change').getAttribute('title')).toBe('Compared with Nov 18, 2025, the day before, in UTC.')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the traffic line stops at the current hour instead of drawing the hours to come as zeros', async () => {
    const { context, page, problems } = await atNow()
    try {
      await page.goto(`${stack.baseUrl}/?site=${site}&range=today`)
      await settled(page)
      const hover = (x: number, y: number) => page.mouse.move(x, y)
      expect(await chartValueAt(page, 10, 24, hover)).toBe('3')
      expect(await chartValueAt(page, 14, 24, hover)).toBe('1')
      expect(await chartValueAt(page, 13, 24, hover)).toBe('0')
      // 15:00 and later have not begun.
      expect(await chartValueAt(page, 15, 24, hover)).toBe('–')
      expect(await chartValueAt(page, 22, 24, hover)).toBe('–')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('refreshing', () => {
  test('the main panels ask again every 60 s while the tab is visible, nothing while it is hidden, and at once when shown', async () => {
    const { context, page, problems } = await atNow()
    try {
      const { asked, until } = recordStats(page)
      await page.goto(`${stack.baseUrl}/?site=${site}&from=2025-11-19&to=2025-11-19`)
      await settled(page)
      const main = () => asked.filter((path) => !path.startsWith('/stats/realtime'))
      const first = main().toSorted()
      // The range, the day before, the chart and the four reports' first tabs at least.
      expect(first.filter((path) => path.startsWith('/stats?'))).toHaveLength(2)
      expect(first.filter((path) => path.startsWith('/stats/timeseries'))).toHaveLength(1)
      expect(first.filter((path) => path.startsWith('/stats/breakdown')).length).toBeGreaterThanOrEqual(4)

      // 50 s: realtime has asked again, the main panels not yet.
      await page.clock.runFor(50_000)
      expect(main()).toHaveLength(first.length)
      expect(asked.filter((path) => path.startsWith('/stats/realtime')).length).toBeGreaterThan(1)

      // At 60 s every main question is asked again, the same questions.
      await page.clock.runFor(10_000)
      await until(() => main().length === 2 * first.length)
      expect(main().slice(first.length).toSorted()).toEqual(first)

      // Hidden: three minutes pass and nothing is asked.
      await settled(page)
      await setHidden(page, true)
      const before = asked.length
      await page.clock.runFor(180_000)
      expect(asked).toHaveLength(before)

      // Shown again: asked at once.
      await setHidden(page, false)
      await until(() => main().length === 3 * first.length)
      // Once each: nothing asked while hidden arrived late among them.
      expect(main().slice(2 * first.length).toSorted()).toEqual(first)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('ingestion health', () => {
  test('shows the refusals of the last 24 hours by reason, apart from all time, and links to the ledger', async () => {
    // A refusal of 30 hours ago: in all time (the test writes it to both tables), not in the last 24 hours.
    await stack.database.sql`insert into ingest_refusals (site_id, reason, count) values (${site}, 'bot', 1)`
    await stack.database.sql`update ingest_ledger set refused = refused + 1 where site_id = ${site}`
    await stack.database.sql`insert into ingest_refusal_hours (site_id, hour, reason, count) values (${site}, date_trunc('hour', now()) - interval '30 hours', 'bot', 1)`
    const { context, page, problems } = await visit()
    try {
      await page.goto(`${stack.baseUrl}/?site=${site}&range=today`)
      await settled(page)
      type Ledger = { sites: { refused: number; recent: { since: string; refused: number; refused_by_reason: { reason: string; count: number }[] } }[] }
      const answer = (await apiJson<Ledger>(`/ingest/ledger?site_id=${site}&recent_hours=24`)).sites[0]!
      expect(answer.refused).toBe(3)
      expect(answer.recent.refused).toBe(2)
      expect(await shownCount(page, 'ledger-refused')).toBe(answer.refused)
      expect(await shownCount(page, 'ledger-recent-refused')).toBe(answer.recent.refused)
      // Refusals lately stand out; all time they are a count like the others.
      expect(await page.getByTestId('ledger-recent-refused').evaluate((element) => element.parentElement!.className)).toBe('count-alert')
      expect(await page.getByTestId('ledger-refused').evaluate((element) => element.parentElement!.className)).toBe('')
      const recent = page.getByRole('list', { name: 'Refused in the last 24 hours, by reason' })
      expect((await recent.getByRole('listitem').allTextContents()).map((text) => text.replace(/\s+\d+$/, ''))).toEqual(
        answer.recent.refused_by_reason.map((row) => row.reason),
      )
      expect(await recent.textContent()).not.toContain('bot')
      expect(await page.getByRole('heading', { name: 'Refused, last 24 hours' }).count()).toBe(1)

      // The link opens the ledger itself, as the API answers it.
      const link = page.getByTestId('ledger-link')
      expect(await link.getAttribute('href')).toBe(`/ingest/ledger?site_id=${site}&recent_hours=24`)
      const opened = page.waitForResponse((response) => new URL(response.url()).pathname === '/ingest/ledger' && response.request().isNavigationRequest())
      await link.click()
      const ledger = await opened
      expect(ledger.status()).toBe(200)
      expect(((await ledger.json()) as Ledger).sites[0]!.recent.refused).toBe(answer.recent.refused)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('a new install', () => {
  test('the empty dashboard shows the tracker snippet with the absolute URL of /script.js', async () => {
    const empty = await startStack('dashboard_defects_empty', { dashboardDir })
    const context = await browser.newContext({ locale: 'en-US' })
    try {
      expect((await context.request.post(`${empty.baseUrl}/login`, { form: empty.admin, maxRedirects: 0 })).status()).toBe(303)
      const page = await context.newPage()
      await page.goto(`${empty.baseUrl}/`)
      const snippet = page.getByTestId('tracker-snippet')
      expect(await snippet.textContent()).toBe(`<script defer src="${empty.baseUrl}/script.js" data-site="my-site"></script>`)
      // The URL it shows serves the tracker.
      const script = await context.request.get(`${empty.baseUrl}/script.js`)
      expect(script.status()).toBe(200)
      expect(script.headers()['content-type']).toContain('javascript')
    } finally {
      await context.close()
      await empty.close()
    }
  })
})

describe('link parameters', () => {
  /** The notices shown, as [parameter, text]. */
  const notices = (page: Page) =>
    page.getByTestId('url-notice').evaluateAll((items) => items.map((item) => [item.getAttribute('data-parameter'), item.textContent]))

  test('a parameter the dashboard cannot use is named, with what is shown instead, and the questions asked follow it', async () => {
    const { context, page, problems } = await atNow()
    try {
      const { asked } = recordStats(page)
      await page.goto(`${stack.baseUrl}/?site=${site}&range=90d&tz=Mars/Olympus&filters=nonsense;source==Google`)
      await settled(page)
      expect(await notices(page)).toEqual([
        ['tz', 'tz “Mars/Olympus” is not a time zone this browser knows: showing the site\'s zone (UTC) instead.'],
        ['range', 'range “90d” is not one of today, yesterday, 7d, 30d: showing Last 7 days instead.'],
        ['filters', 'filters “nonsense” is no filter: a property, then ==, != or ~, then a value: showing the view without it instead.'],
      ])
      expect(asked).toContain(`/stats?site_id=${site}&from=2025-11-14&to=2025-11-20&tz=UTC&filters=source%3D%3DGoogle`)

      for (const [search, parameter, text] of [
        ['site=&range=today', 'site', `site “” is not a site id (1 to 128 characters, no control characters): showing ${site} instead.`],
        ['from=2025-13-01&to=2025-11-20', 'from', 'from “2025-13-01” is not a calendar date in YYYY-MM-DD form: showing Last 7 days instead.'],
        ['from=2025-11-20&range=today', 'from', 'from “2025-11-20” needs to as well: showing Today instead.'],
        ['from=2025-11-20&to=2025-11-01', 'from', 'from “2025-11-20” is after to (2025-11-01): showing Last 7 days instead.'],
      ] as const) {
        await page.goto(`${stack.baseUrl}/?${search}`)
        await settled(page)
        expect(await notices(page)).toEqual([[parameter, text]])
      }
      // A person's own change dismisses them.
      await page.getByRole('radio', { name: 'Yesterday' }).check()
      expect(await page.getByTestId('url-notice').count()).toBe(0)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('the 400-day limit', () => {
  test('a link over 400 days shows the last 400 days of it, and the custom range refuses more with a message', async () => {
    const { context, page, problems } = await atNow()
    try {
      const { asked } = recordStats(page)
      await page.goto(`${stack.baseUrl}/?site=${site}&from=2024-01-01&to=2025-11-20`)
      await settled(page)
      expect(await page.getByTestId('url-notice').textContent()).toBe(
        'from “2024-01-01” makes a range of 690 days; the API answers at most 400: showing from 2024-10-17 instead.',
      )
      expect(asked).toContain(`/stats?site_id=${site}&from=2024-10-17&to=2025-11-20&tz=UTC`)
      expect(await page.getByRole('alert').count()).toBe(0)

      const before = asked.length
      const url = page.url()
      await page.getByTestId('range-from').fill('2024-10-16')
      expect(await page.getByTestId('range-problem').textContent()).toBe(
        'A range may span at most 400 days; this one has 401. The range shown is unchanged.',
      )
      expect(page.url()).toBe(url)
      expect(asked).toHaveLength(before)
      expect(await page.getByTestId('range-from').getAttribute('min')).toBe('2024-10-17')

      // 400 days exactly is taken.
      await page.getByTestId('range-to').fill('2025-11-19')
      await page.getByTestId('range-from').fill('2024-10-16')
      await settled(page)
      expect(await page.getByTestId('range-problem').count()).toBe(0)
      expect(new URL(page.url()).search).toBe(`?site=${site}&from=2024-10-16&to=2025-11-19`)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('favicon and default site', () => {
  test('the dashboard and the login page have an icon, and nothing they load is missing', async () => {
    const icon = await stack.get('/favicon.svg')
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toBe('image/svg+xml')
    expect(await icon.text()).toStartWith('<svg')
    const { context, page, problems } = await visit()
    try {
      const failed: string[] = []
      page.on('response', (response) => response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`))
      await page.goto(`${stack.baseUrl}/?site=${site}&range=today`)
      await settled(page)
      expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg')
      const login = await context.newPage()
      login.on('response', (response) => response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`))
      await login.goto(`${stack.baseUrl}/login`)
      expect(await login.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg')
      expect(failed).toEqual([])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('without a site in the URL the site with the latest event shows, until one is chosen, which is remembered', async () => {
    const { context, page, problems } = await visit()
    try {
      const sites = (await apiJson<{ sites: { site_id: string; last_event_at: string | null }[] }>('/sites')).sites
      const latest = sites.toSorted((a, b) => (b.last_event_at ?? '').localeCompare(a.last_event_at ?? ''))[0]!.site_id
      expect(latest).toBe(site)
      // Alphabetically it is not the first.
      expect(sites.map((entry) => entry.site_id).toSorted()[0]).not.toBe(site)

      await page.goto(`${stack.baseUrl}/`)
      await settled(page)
      expect(await page.getByTestId('site-picker').inputValue()).toBe(site)
      expect(new URL(page.url()).searchParams.get('site')).toBe(site)

      await page.getByTestId('site-picker').selectOption(older)
      await settled(page)
      await page.goto(`${stack.baseUrl}/?range=30d`)
      await settled(page)
      expect(await page.getByTestId('site-picker').inputValue()).toBe(older)
      expect(new URL(page.url()).searchParams.get('site')).toBe(older)
      // A URL naming a site still wins.
      await page.goto(`${stack.baseUrl}/?site=${site}`)
      await settled(page)
      expect(await page.getByTestId('site-picker').inputValue()).toBe(site)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('touch screens', () => {
  test('a tap on the chart shows the values of the bucket tapped, and a finger sliding along it follows the buckets', async () => {
    const { context, page, problems } = await atNow({ width: 375, height: 812 }, { hasTouch: true, isMobile: true })
    try {
      await page.goto(`${stack.baseUrl}/?site=${site}&range=today`)
      await settled(page)
      const tap = (x: number, y: number) => page.touchscreen.tap(x, y)
      expect(await chartValueAt(page, 10, 24, tap)).toBe('3')
      expect(await chartValueAt(page, 14, 24, tap)).toBe('1')
      expect(await chartValueAt(page, 18, 24, tap)).toBe('–')

      // A finger put down at 06:00 and slid sideways to 10:00, through the browser's own touch input.
      const touch = await context.newCDPSession(page)
      let start = 0
      const slide = async (x: number, y: number) => {
        const from = { x: start, y }
        await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [from] })
        for (let step = 1; step <= 8; step++) {
          await touch.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: start + ((x - start) * step) / 8, y }] })
        }
        await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
      }
      const box = (await page.locator('.u-over').first().boundingBox())!
      start = box.x + (box.width * 6) / 23
      expect(await chartValueAt(page, 10, 24, slide)).toBe('3')
      start = box.x + (box.width * 10) / 23
      expect(await chartValueAt(page, 13, 24, slide)).toBe('0')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('accessibility', () => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 375, height: 812 },
  ]) {
    test(`the dashboard at ${viewport.width} px has no serious or critical violation`, async () => {
      // axe is injected as an inline script, which the pages' content security policy refuses.
      const { context, page, problems } = await atNow(viewport, { bypassCSP: true })
      try {
        await page.goto(`${stack.baseUrl}/?site=${site}&range=today`)
        await settled(page)
        expect(await axeViolations(page)).toEqual([])
        expect(problems).toEqual([])
      } finally {
        await context.close()
      }
    })
  }

  test('the login page has no serious or critical violation', async () => {
    const context = await browser.newContext({ locale: 'en-US', bypassCSP: true })
    try {
      const page = await context.newPage()
      await page.goto(`${stack.baseUrl}/login`)
      expect(await axeViolations(page)).toEqual([])
      // A refused sign-in shows its message: checked too.
      await page.getByLabel('User').fill('admin')
      await page.getByLabel('Password').fill('wrong')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('alert').waitFor()
      expect(await axeViolations(page)).toEqual([])
    } finally {
      await context.close()
    }
  })
})
