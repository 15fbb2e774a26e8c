/**
 * The dashboard end to end: built with Vite, served by the API, driven in a real headless
 * Chromium. Data goes in through POST /events (the real write path); every number the page shows
 * is checked against the API's own answer to the query the page made.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, Locator, Page, Response } from 'playwright-core'
import { buildDashboard, launchChromium, settled, signedInPage } from './kit/browser'
import { startStack, uniqueName, type Stack } from './support'

const root = resolve(import.meta.dir, '..')
const artifacts = join(root, '.artifacts')

let stack: Stack
let browser: Browser

/** A UTC site with a week of history and a week before it; a New York site with an event just now. */
const shop = uniqueName('shop')
const blog = uniqueName('blog')
const LONG_PATH = '/blog/2025/11/a-rather-long-article-title-that-must-not-widen-the-page-on-a-phone'

interface SeedEvent {
  site_id: string
  event_type: string
  path: string
  user_id?: string | null
  timestamp: string
}

function shopEvents(): SeedEvent[] {
  const events: SeedEvent[] = []
  const add = (count: number, fields: Omit<SeedEvent, 'site_id' | 'timestamp'>, day: string, hour: number) => {
    for (let i = 0; i < count; i++)
      events.push({ site_id: shop, timestamp: `${day}T${String(hour).padStart(2, '0')}:${String(i * 7).padStart(2, '0')}:00Z`, ...fields })
  }
  // The range 2025-11-10..14.
  add(3, { event_type: 'page_view', path: '/', user_id: 'u1' }, '2025-11-10', 9)
  add(2, { event_type: 'page_view', path: '/', user_id: 'u2' }, '2025-11-12', 14)
  add(1, { event_type: 'page_view', path: '/', user_id: null }, '2025-11-14', 23)
  add(3, { event_type: 'page_view', path: '/pricing', user_id: 'u3' }, '2025-11-13', 10)
  add(2, { event_type: 'page_view', path: LONG_PATH, user_id: 'u1' }, '2025-11-14', 8)
  add(4, { event_type: 'click', path: '/pricing', user_id: 'u4' }, '2025-11-13', 11)
  add(1, { event_type: 'signup', path: '/signup', user_id: 'u5' }, '2025-11-14', 12)
  // The five days before it, for the comparison.
  add(2, { event_type: 'page_view', path: '/', user_id: 'u1' }, '2025-11-06', 9)
  add(2, { event_type: 'page_view', path: '/', user_id: 'u6' }, '2025-11-08', 18)
  return events
}

function blogEvents(now: Date): SeedEvent[] {
  return [
    // 03:00Z on the 14th is 22:00 on the 13th in New York.
    { site_id: blog, event_type: 'page_view', path: '/late-night', user_id: 'b1', timestamp: '2025-11-14T03:00:00Z' },
    { site_id: blog, event_type: 'page_view', path: '/morning', user_id: 'b2', timestamp: '2025-11-14T15:00:00Z' },
    { site_id: blog, event_type: 'page_view', path: '/just-now', user_id: 'b3', timestamp: new Date(now.getTime() - 60_000).toISOString() },
  ]
}


beforeAll(
  async () => {
    stack = await startStack('dashboard', { dashboardDir: await buildDashboard() })
    browser = await launchChromium()
    const zone = await fetch(`${stack.baseUrl}/sites/${blog}`, {
      method: 'PUT',
      headers: { ...stack.adminHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ timezone: 'America/New_York' }),
    })
    expect(zone.status).toBe(202)
    await stack.jobs.wait([((await zone.json()) as { jobId: string }).jobId])
    // One refused event (a bad timestamp) for the ledger's "refused by reason".
    await stack.store([...shopEvents(), { site_id: shop, event_type: 'page_view', path: '/', timestamp: 'yesterday' }])
    await stack.store(blogEvents(new Date()))
    await stack.flush()
    mkdirSync(artifacts, { recursive: true })
  },
  { timeout: 120_000 },
)

afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

const visit = (viewport?: { width: number; height: number }) => signedInPage(browser, stack.baseUrl, stack.admin, viewport)

/** Resolves once the element's attribute differs from `before`; each check is a round trip to the page. */
async function untilAttributeChanges(locator: Locator, name: string, before: string | null, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while ((await locator.getAttribute(name)) === before) {
    if (Date.now() > deadline) throw new Error(`waited ${timeout} ms for ${name} to change from ${before}`)
  }
}

/** Resolves with the next `count` responses to `pathname`, or rejects after `timeout` ms. */
function nextResponses(page: Page, pathname: string, count: number, timeout = 10_000): Promise<Response[]> {
  return new Promise((resolve, reject) => {
    const seen: Response[] = []
    const onResponse = (response: Response) => {
      if (new URL(response.url()).pathname !== pathname) return
      seen.push(response)
      if (seen.length < count) return
      clearTimeout(timer)
      page.off('response', onResponse)
      resolve(seen)
    }
    const timer = setTimeout(() => {
      page.off('response', onResponse)
      reject(new Error(`waited ${timeout} ms for ${count} responses to ${pathname}; saw ${seen.length}`))
    }, timeout)
    page.on('response', onResponse)
  })
}

/** The API's answer to the very query the page sent. */
async function apiAnswer(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const { pathname, search } = new URL(url)
  const response = await stack.get(pathname + search)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const count = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, ''))

async function shownCount(page: Page, testId: string): Promise<number> {
  return count(await page.getByTestId(testId).textContent())
}

/** [name, count] of each row of a share table, as shown. */
async function shownRows(page: Page, testId: string): Promise<[string, number][]> {
  return page
    .getByTestId(`${testId}-row`)
    .evaluateAll(
      (rows, id) =>
        rows.map(
          (row) =>
            [
              row.querySelector(`[data-testid="${id}-name"]`)?.textContent ?? '',
              Number((row.querySelector(`[data-testid="${id}-count"]`)?.textContent ?? '').replace(/[^\d]/g, '')),
            ] as [string, number],
        ),
      testId,
    )
}

/** The page's two /stats queries: the range shown, and the period before it (which ends earlier). */
function rangeQueries(responses: Response[]): { current: URL; previous: URL } {
  const [current, previous] = responses
    .map((response) => new URL(response.url()))
    .sort((a, b) => (b.searchParams.get('to') ?? '').localeCompare(a.searchParams.get('to') ?? ''))
  return { current: current!, previous: previous! }
}

interface RangeAnswer {
  from: string
  to: string
  total_views: number
  unique_users: number
  event_types: { event_type: string; count: number }[]
}

/** The wall-clock hour in `timeZone` of an instant. */
const hourIn = (timeZone: string, instant: Date) => Number(new Intl.DateTimeFormat('en', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(instant))

/**
 * Runs `action` (which makes the page ask for a range) and checks what the page then shows against
 * the API's answers to the same queries: the range, and the period before it, which for a range
 * under way is its whole days (`previous`, none when the range began today) and the hours of the
 * next one up to the current hour.
 */
async function expectRangeShown(page: Page, action: () => Promise<unknown>): Promise<{ current: URL; previous: URL | null }> {
  const seen: URL[] = []
  const onResponse = (response: Response) => {
    const url = new URL(response.url())
    if (url.pathname === '/stats' || url.pathname === '/stats/timeseries') seen.push(url)
  }
  page.on('response', onResponse)
  const pages = page.waitForResponse((response) => {
    const url = new URL(response.url())
    return url.pathname === '/stats/breakdown' && url.searchParams.get('property') === 'page'
  })
  let pagesQuery: URL
  try {
    await action()
    pagesQuery = new URL((await pages).url())
    await settled(page)
    // The comparison loads on its own, after the numbers.
    await page.waitForFunction(() => ![...document.querySelectorAll('.metric-change')].some((element) => element.textContent === 'Comparing…'), null, {
      timeout: 10_000,
    })
  } finally {
    page.off('response', onResponse)
  }
  const { property: _property, limit: _limit, ...rangeParams } = Object.fromEntries(pagesQuery.searchParams)
  const current = seen.find((url) => url.pathname === '/stats' && JSON.stringify(Object.fromEntries(url.searchParams)) === JSON.stringify(rangeParams))!
  expect(current).toBeDefined()
  const from = current.searchParams.get('from')!
  const tz = current.searchParams.get('tz')!
  const previous = seen.find((url) => url.pathname === '/stats' && url.searchParams.get('to')! < from) ?? null
  const hours = seen.find((url) => url.pathname === '/stats/timeseries' && url.searchParams.get('interval') === 'hour' && url.searchParams.get('to')! < from)

  const answer = (await apiAnswer(current.href)).body as unknown as RangeAnswer
  const before = previous && ((await apiAnswer(previous.href)).body as unknown as RangeAnswer)
  const topPages = (await apiAnswer(pagesQuery.href)).body as { results: { value: string; visitors: number }[] }

  expect(await shownCount(page, 'headline-views')).toBe(answer.total_views)
  expect(await shownCount(page, 'headline-users')).toBe(answer.unique_users)
  if (hours) {
    const buckets = ((await apiAnswer(hours.href)).body as { buckets: { start: string; views: number }[] }).buckets
    // The page's clock, which a test may have set.
    const now = hourIn(tz, new Date(await page.evaluate(() => Date.now())))
    const hourViews = buckets.filter((bucket) => hourIn(tz, new Date(bucket.start)) <= now).reduce((sum, bucket) => sum + bucket.views, 0)
    expect(await shownCount(page, 'headline-views-previous')).toBe((before?.total_views ?? 0) + hourViews)
    expect(await page.getByTestId('headline-users-change').textContent()).toBe('No like-for-like comparison')
  } else {
    expect(before).not.toBeNull()
    expect(await shownCount(page, 'headline-views-previous')).toBe(before!.total_views)
    expect(await shownCount(page, 'headline-users-previous')).toBe(before!.unique_users)
  }
  expect(await shownRows(page, 'pages')).toEqual(topPages.results.map((row) => [row.value, row.visitors]))
  expect(await shownRows(page, 'event-type')).toEqual(answer.event_types.map((row) => [row.event_type, row.count]))
  return { current, previous }
}

describe('the dashboard', () => {
  test('shows the numbers of GET /stats for a shared custom range, compared with the period before', async () => {
    const { context, page, problems } = await visit()
    try {
      const { current, previous } = await expectRangeShown(page, () => page.goto(`${stack.baseUrl}/?site=${shop}&from=2025-11-10&to=2025-11-14`))
      // The site's zone (UTC: none was set) is asked for explicitly; the period before has the same 5 days.
      expect(Object.fromEntries(current.searchParams)).toEqual({ site_id: shop, from: '2025-11-10', to: '2025-11-14', tz: 'UTC' })
      expect(Object.fromEntries(previous!.searchParams)).toMatchObject({ from: '2025-11-05', to: '2025-11-09', tz: 'UTC' })
      // The seeded data, so a wrong query could not pass by showing the same zeros as the API.
      expect(await shownCount(page, 'headline-views')).toBe(11)
      expect(await shownCount(page, 'headline-users')).toBe(5)
      expect(await shownCount(page, 'headline-views-previous')).toBe(4)
      expect(await page.getByText('+175%').count()).toBe(1)
      expect(await page.getByTestId('pages-row').count()).toBe(3)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('traffic: hourly buckets for a day, daily for longer ranges, in the chosen zone', async () => {
    const { context, page, problems } = await visit()
    try {
      for (const [from, to, interval, label] of [
        ['2025-11-14', '2025-11-14', 'hour', 'per hour'],
        ['2025-11-10', '2025-11-14', 'day', 'per day'],
      ] as const) {
        const series = nextResponses(page, '/stats/timeseries', 1)
        await page.goto(`${stack.baseUrl}/?site=${shop}&from=${from}&to=${to}`)
        const [response] = await series
        const url = new URL(response!.url())
        expect(Object.fromEntries(url.searchParams)).toEqual({ site_id: shop, from, to, tz: 'UTC', interval })
        await settled(page)
        const answer = (await apiAnswer(url.href)).body as { buckets: { views: number }[] }
        const views = answer.buckets.reduce((sum, bucket) => sum + bucket.views, 0)
        const chart = page.getByRole('img', { name: /^Views and unique users/ })
        expect(await chart.getAttribute('aria-label')).toContain(`per ${interval}`)
        expect(await chart.getAttribute('aria-label')).toContain(`${views} views in all`)
        expect(await chart.locator('canvas').count()).toBe(1)
        expect(await page.getByText(`${label} · UTC`).count()).toBe(1)
      }
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('changing site, range and zone updates the numbers and the URL; Back and reload restore the view', async () => {
    const { context, page, problems } = await visit()
    try {
      // The day after the seeded week, so "today" and a custom range from 1 November stay the same whatever the date.
      await page.clock.install({ time: new Date('2025-11-15T12:00:00Z') })
      await expectRangeShown(page, () => page.goto(`${stack.baseUrl}/?site=${shop}&from=2025-11-13&to=2025-11-13`))

      // Another site: the range stays, the zone becomes that site's own.
      const onBlog = await expectRangeShown(page, () => page.getByTestId('site-picker').selectOption(blog))
      expect(Object.fromEntries(onBlog.current.searchParams)).toMatchObject({ site_id: blog, from: '2025-11-13', to: '2025-11-13', tz: 'America/New_York' })
      expect(await shownRows(page, 'pages')).toEqual([['/late-night', 1]])
      expect(new URL(page.url()).search).toBe(`?site=${blog}&from=2025-11-13&to=2025-11-13`)

      // Another zone: the same local date in UTC holds no event of that evening.
      const inUtc = await expectRangeShown(page, () => page.getByTestId('tz-picker').selectOption('UTC'))
      expect(inUtc.current.searchParams.get('tz')).toBe('UTC')
      expect(await page.getByText('No page views in this period.').count()).toBe(1)
      expect(new URL(page.url()).searchParams.get('tz')).toBe('UTC')

      // A preset, then a custom range typed into the date inputs.
      const today = await expectRangeShown(page, () => page.getByRole('radio', { name: 'Today' }).check())
      expect(today.current.searchParams.get('from')).toBe(today.current.searchParams.get('to'))
      expect(new URL(page.url()).searchParams.get('range')).toBe('today')
      await page.getByRole('radio', { name: 'Custom' }).check()
      await expectRangeShown(page, () => page.getByTestId('range-from').fill('2025-11-01'))
      await expectRangeShown(page, () => page.getByTestId('range-to').fill('2025-11-14'))
      expect(new URL(page.url()).search).toBe(`?site=${blog}&from=2025-11-01&to=2025-11-14&tz=UTC`)
      expect(await shownCount(page, 'headline-views')).toBe(2)

      // Back returns to the previous view, and a reload shows the same one.
      const back = await expectRangeShown(page, () => page.goBack())
      expect(Object.fromEntries(back.current.searchParams)).toMatchObject({ from: '2025-11-01', to: today.current.searchParams.get('to')! })
      const reloaded = await expectRangeShown(page, () => page.reload())
      expect(reloaded.current.href).toBe(back.current.href)
      expect(await page.getByTestId('range-from').inputValue()).toBe('2025-11-01')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a zone the API cannot answer exactly shows the API’s reason', async () => {
    const { context, page, problems } = await visit()
    try {
      const stats = nextResponses(page, '/stats', 2)
      await page.goto(`${stack.baseUrl}/?site=${shop}&from=2025-11-10&to=2025-11-14&tz=Asia/Kolkata`)
      const answer = await apiAnswer(rangeQueries(await stats).current.href)
      expect(answer.status).toBe(400)
      await settled(page)
      // Said once, above the panels it empties: seven headline numbers, four reports, event types, traffic.
      expect(await page.getByRole('alert').allTextContents()).toEqual([answer.body.error as string])
      expect(await page.getByText('Not available: see above.').count()).toBe(13)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a site without data shows empty states, not errors', async () => {
    const { context, page, problems } = await visit()
    try {
      const nobody = uniqueName('nobody')
      await expectRangeShown(page, () => page.goto(`${stack.baseUrl}/?site=${nobody}&range=30d`))
      expect(await shownCount(page, 'headline-views')).toBe(0)
      expect(await page.getByText('No page views in this period.').count()).toBe(1)
      expect(await page.getByText('No events in this period.').count()).toBe(1)
      expect(await page.getByText('No traffic in this period.').count()).toBe(1)
      expect(await page.getByText('No events received for this site yet.').count()).toBe(1)
      expect(await page.getByTestId('site-picker').inputValue()).toBe(nobody)
      expect(await page.getByRole('alert').count()).toBe(0)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('realtime: an event posted now shows up within a refresh, announced politely', async () => {
    const { context, page, problems } = await visit()
    try {
      const live = uniqueName('live')
      await page.goto(`${stack.baseUrl}/?site=${live}&range=today`)
      await settled(page)
      expect(await shownCount(page, 'realtime-events')).toBe(0)
      expect(await page.getByTestId('realtime-events').evaluate((element) => element.closest('[aria-live]')?.getAttribute('aria-live'))).toBe('polite')

      await stack.store([{ site_id: live, event_type: 'page_view', path: '/', user_id: 'r1', timestamp: new Date().toISOString() }])
      // The panel asks again every 10 s: the new count must appear within two periods.
      await page.waitForFunction(() => document.querySelector('[data-testid="realtime-events"]')?.textContent === '1', null, { timeout: 25_000 })
      const answer = (await apiAnswer(`${stack.baseUrl}/stats/realtime?site_id=${live}`)).body as { last_5_minutes: { events: number; unique_users: number } }
      expect(await shownCount(page, 'realtime-events')).toBe(answer.last_5_minutes.events)
      expect(await shownCount(page, 'realtime-users')).toBe(answer.last_5_minutes.unique_users)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  }, 60_000)

  test('realtime asks nothing while the tab is hidden, and catches up when it is shown again', async () => {
    const { context, page, problems } = await visit()
    try {
      // A fake clock runs the page's 10 s timer on demand, so no test time is spent waiting for it.
      await page.clock.install()
      const asked: string[] = []
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/stats/realtime') asked.push(request.url())
      })
      await page.goto(`${stack.baseUrl}/?site=${shop}&range=today`)
      await settled(page)
      expect(asked).toHaveLength(1)

      const setHidden = (hidden: boolean) =>
        page.evaluate((value) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => value })
          document.dispatchEvent(new Event('visibilitychange'))
        }, hidden)
      await setHidden(true)
      await page.clock.runFor(60_000)
      expect(asked).toHaveLength(1)

      const asOf = page.getByTestId('realtime-as-of')
      const shownBefore = await asOf.getAttribute('datetime')
      const shown = nextResponses(page, '/stats/realtime', 1)
      await setHidden(false)
      await shown
      // The page schedules its next refresh when it has taken the answer in, which can be after
      // the response event: advancing the fake clock before that would move no timer.
      await untilAttributeChanges(asOf, 'datetime', shownBefore)
      const refreshed = nextResponses(page, '/stats/realtime', 1)
      await page.clock.runFor(10_000)
      await refreshed
      expect(asked).toHaveLength(3)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('ingestion health shows the site’s ledger and the queue as the API reports them', async () => {
    const { context, page, problems } = await visit()
    try {
      await stack.flush()
      await page.goto(`${stack.baseUrl}/?site=${shop}&from=2025-11-10&to=2025-11-14`)
      await settled(page)
      const ledger = ((await apiAnswer(`${stack.baseUrl}/ingest/ledger?site_id=${shop}`)).body as { sites: Record<string, number>[] }).sites[0]!
      expect(ledger).toMatchObject({ accepted: 20, written: 20, duplicates: 0, refused: 1 })
      for (const field of ['accepted', 'written', 'duplicates', 'refused']) expect(await shownCount(page, `ledger-${field}`)).toBe(ledger[field]!)
      expect(await page.getByRole('list', { name: 'Refused, by reason' }).textContent()).toContain('timestamp must be a valid ISO 8601 date string')
      const queue = (await apiAnswer(`${stack.baseUrl}/ingest/queue`)).body as Record<string, number>
      for (const field of ['waiting', 'active', 'delayed', 'failed']) expect(await shownCount(page, `queue-${field}`)).toBe(queue[field]!)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a 401 from the API sends the browser to the login form, to come back here', async () => {
    const { context, page } = await visit()
    try {
      await page.route('**/sites', (route) => route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":"Not signed in"}' }))
      const path = `/?site=${shop}&range=7d`
      await page.goto(stack.baseUrl + path)
      await page.waitForURL((url) => url.pathname === '/login', { timeout: 10_000 })
      expect(new URL(page.url()).searchParams.get('next')).toBe(path)
    } finally {
      await context.close()
    }
  })

  test('fits a 375 px phone in one column without sideways scrolling; screenshots of both sizes', async () => {
    for (const [name, viewport] of [
      ['dashboard-desktop.png', { width: 1280, height: 800 }],
      ['dashboard-phone.png', { width: 375, height: 812 }],
    ] as const) {
      const { context, page, problems } = await visit(viewport)
      try {
        await page.goto(`${stack.baseUrl}/?site=${shop}&from=2025-11-10&to=2025-11-14`)
        await settled(page)
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          columns: getComputedStyle(document.querySelector('main.grid')!).gridTemplateColumns.split(' ').length,
        }))
        expect(layout.scrollWidth).toBeLessThanOrEqual(viewport.width)
        expect(layout.columns).toBe(viewport.width < 700 ? 1 : 2)
        await page.screenshot({ path: join(artifacts, name), fullPage: true })
        expect(problems).toEqual([])
      } finally {
        await context.close()
      }
    }
  })
})
