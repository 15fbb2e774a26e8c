/**
 * The browser tracker end to end: the API serves /script.js, a page on another origin embeds it
 * in a real headless Chromium, and its events land in Postgres.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { launchChromium } from './kit/browser'
import { startStack, uniqueName, type Stack } from './support'

let stack: Stack
let browser: Browser
let host: ReturnType<typeof Bun.serve>
let hostOrigin: string
let trackerCopy: string

/** What tracker.ts puts on window for the host page (`analytics` only when the page had none). */
type TrackerApi = { track(eventType: string, path?: string, props?: Record<string, string | number | boolean>): void }
type WithAnalytics = { analytics: TrackerApi; analyticsTracker: TrackerApi }

/**
 * The embedding site, on an origin of its own. Its page embeds the tracker from the API; with
 * `?self-hosted` it serves a copy of the tracker itself and points data-api at the API.
 */
function hostPage(url: URL): string {
  // A page that links to `to`, for a real referrer (page.goto's referer sets only the header).
  if (url.pathname === '/link')
    return `<!doctype html><html><head><meta charset="utf-8"><title>Link</title></head><body><a href="${url.searchParams.get('to')}">Go</a></body></html>`
  const site = url.searchParams.get('site')
  const tag = url.searchParams.has('self-hosted')
    ? `<script defer src="/script.js" data-site="${site}" data-api="${stack.baseUrl}"></script>`
    : `<script defer src="${stack.baseUrl}/script.js" data-site="${site}"></script>`
  return `<!doctype html><html><head><meta charset="utf-8"><title>Host</title>${tag}</head><body>A site that uses the tracker</body></html>`
}

beforeAll(async () => {
  stack = await startStack('tracker')
  trackerCopy = await (await stack.get('/script.js')).text()
  host = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request) {
      const url = new URL(request.url)
      if (url.pathname === '/script.js') return new Response(trackerCopy, { headers: { 'content-type': 'application/javascript' } })
      if (url.pathname === '/favicon.ico') return new Response(null, { status: 204 })
      return new Response(hostPage(url), { headers: { 'content-type': 'text/html; charset=utf-8' } })
    },
  })
  hostOrigin = `http://127.0.0.1:${host.port}`
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await host?.stop(true)
  await stack?.close()
})

describe('GET /script.js', () => {
  test('is JavaScript anyone may embed, cached for an hour', async () => {
    const response = await stack.get('/script.js')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('vary')).toBe('accept-encoding')
  })

  test('is under 2 KB gzipped', async () => {
    const body = await (await stack.get('/script.js')).text()
    expect(Bun.gzipSync(body).length).toBeLessThan(2048)
  })

  test('is sent gzipped only to clients that accept gzip', async () => {
    const identity = await (await stack.get('/script.js', { 'accept-encoding': 'identity' })).text()
    const gzipped = await fetch(`${stack.baseUrl}/script.js`, { headers: { 'accept-encoding': 'br, gzip' }, decompress: false })
    expect(gzipped.headers.get('content-encoding')).toBe('gzip')
    expect(new TextDecoder().decode(Bun.gunzipSync(await gzipped.bytes()))).toBe(identity)
    for (const acceptEncoding of ['identity', 'br', 'gzip;q=0']) {
      const plain = await fetch(`${stack.baseUrl}/script.js`, { headers: { 'accept-encoding': acceptEncoding }, decompress: false })
      expect(plain.headers.get('content-encoding')).toBeNull()
      expect(await plain.text()).toBe(identity)
    }
  })
})

interface Visit {
  context: BrowserContext
  page: Page
  /** Every request the page made to POST /event, in order. */
  sent: Request[]
  /** Failed requests, console errors and uncaught exceptions: all must stay empty. */
  problems: string[]
}

async function visit(init?: () => void, viewport = { width: 1280, height: 720 }): Promise<Visit> {
  const context = await browser.newContext({ viewport })
  if (init) await context.addInitScript(init)
  const page = await context.newPage()
  const sent: Request[] = []
  const problems: string[] = []
  page.on('request', (request) => {
    if (request.url() === `${stack.baseUrl}/event`) sent.push(request)
  })
  page.on('requestfailed', (request) => problems.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  return { context, page, sent, problems }
}

/**
 * Keeps what the page hands to sendBeacon, whose bodies Playwright does not report for beacons
 * (an init script for visit()); beaconBodies() reads them back, in order.
 */
function recordBeacons(): void {
  const kept: Blob[] = []
  Object.assign(window, { beacons: kept })
  const sendBeacon = Navigator.prototype.sendBeacon
  Navigator.prototype.sendBeacon = function (url, data) {
    if (data instanceof Blob) kept.push(data)
    return sendBeacon.call(this, url, data)
  }
}

function beaconBodies(page: Page): Promise<Record<string, unknown>[]> {
  return page.evaluate(() => Promise.all((window as unknown as { beacons: Blob[] }).beacons.map(async (blob) => JSON.parse(await blob.text()))))
}

/** Runs `action` and resolves with the one event request it causes. */
async function expectEvent(page: Page, action: () => Promise<unknown>): Promise<Request> {
  const [request] = await Promise.all([page.waitForRequest(`${stack.baseUrl}/event`), action()])
  return request
}

interface Row {
  event_id: string
  event_type: string
  path: string
  user_id: string | null
  props: Record<string, string> | null
}

/** The site's rows in event-time order, once `count` of them are in Postgres (or after 15 s). */
async function rowsOf(site: string, count: number): Promise<Row[]> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const rows = await stack.database.sql<Row[]>`select event_id, event_type, path, user_id, props from events where site_id = ${site} order by timestamp`
    if (rows.length >= count || Date.now() > deadline) return [...rows]
  }
}

describe('the tracker on a page of another origin', () => {
  test('sends a page view on load and per new path, and custom events', async () => {
    const site = uniqueName('tracker_site')
    const { context, page, sent, problems } = await visit()
    try {
      const [script] = await Promise.all([
        page.waitForResponse(`${stack.baseUrl}/script.js`),
        expectEvent(page, () => page.goto(`${hostOrigin}/?site=${site}`)),
      ])
      expect(script.status()).toBe(200)
      await expectEvent(page, () => page.evaluate(() => history.pushState(null, '', '/products')))
      // Same path, other query: no view (an extra request here would show in `sent` and the rows).
      await expectEvent(page, () =>
        page.evaluate(() => {
          history.replaceState(null, '', '/products?sort=price')
          history.pushState(null, '', '/products?page=2')
          history.pushState(null, '', '/products/42')
        }),
      )
      // Back to /products?page=2: a popstate to another path than the last one counted.
      await expectEvent(page, () => page.goBack())
      expect(page.url()).toBe(`${hostOrigin}/products?page=2`)
      const click = await expectEvent(page, () =>
        page.evaluate(() => (window as unknown as WithAnalytics).analytics.track('click', '/button', { plan: 'pro', seats: 3, trial: false })),
      )
      // With no other tool on the page, both names are the tracker.
      expect(await page.evaluate(() => (window as unknown as WithAnalytics).analytics === (window as unknown as WithAnalytics).analyticsTracker)).toBe(true)

      // Delivered cross-origin, as a text/plain beacon (a CORS-safelisted type: no preflight).
      expect(new URL(page.url()).origin).not.toBe(stack.baseUrl)
      expect(click.resourceType()).toBe('ping')
      expect(await click.headerValue('content-type')).toBe('text/plain')
      // The default referrer policy cuts a cross-origin referer down to the page's origin.
      expect(await click.headerValue('referer')).toBe(`${hostOrigin}/`)
      expect(sent).toHaveLength(5)

      const rows = await rowsOf(site, 5)
      expect(rows.map((row) => [row.event_type, row.path])).toEqual([
        ['page_view', '/'],
        ['page_view', '/products'],
        ['page_view', '/products/42'],
        ['page_view', '/products'],
        ['click', '/button'],
      ])
      // Custom properties travel with the event, numbers and booleans as their JSON text.
      expect(rows.map((row) => row.props)).toEqual([null, null, null, null, { plan: 'pro', seats: '3', trial: 'false' }])
      // No cookie, yet one visitor: the API gave every event of this browser the same daily id.
      expect(rows[0]!.user_id).toMatch(/^v-[0-9a-f]{24}$/)
      expect(rows.every((row) => row.user_id === rows[0]!.user_id)).toBe(true)
      // Secure context (127.0.0.1), so crypto.randomUUID made the ids: one per event.
      expect(new Set(rows.map((row) => row.event_id)).size).toBe(5)
      for (const row of rows) expect(row.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('without sendBeacon or randomUUID it falls back to fetch, and data-api picks the endpoint', async () => {
    const site = uniqueName('tracker_site')
    const { context, page, problems } = await visit(() => {
      Reflect.deleteProperty(Navigator.prototype, 'sendBeacon')
      Reflect.deleteProperty(Crypto.prototype, 'randomUUID')
    })
    try {
      // The tracker comes from the host itself; only data-api sends the event to the API.
      const [script, request] = await Promise.all([
        page.waitForResponse(`${hostOrigin}/script.js`),
        expectEvent(page, () => page.goto(`${hostOrigin}/pricing?site=${site}&self-hosted`)),
      ])
      expect(script.status()).toBe(200)
      expect(request.resourceType()).toBe('fetch')
      expect(await request.headerValue('content-type')).toBe('text/plain')
      const body = request.postDataJSON() as Record<string, unknown>
      expect(Object.keys(body)).toEqual(['site_id', 'event_type', 'path', 'timestamp', 'event_id', 'derive_user_id', 'screen_width'])
      expect(body).toMatchObject({ site_id: site, event_type: 'page_view', path: '/pricing', derive_user_id: true })
      expect(body.event_id).toMatch(/^[0-9a-f]{32}$/)

      const response = await request.response()
      expect(response?.status()).toBe(202)
      expect(response?.headers()['access-control-allow-origin']).toBe('*')
      await stack.jobs.wait([((await response!.json()) as { jobId: string }).jobId])
      expect(await rowsOf(site, 1)).toEqual([
        { event_id: body.event_id as string, event_type: 'page_view', path: '/pricing', user_id: expect.stringMatching(/^v-[0-9a-f]{24}$/), props: null },
      ])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('sends the referring site and the utm tags of the landing URL, and the window width', async () => {
    const site = uniqueName('tracker_site')
    const { context, page, sent, problems } = await visit(recordBeacons, { width: 414, height: 800 })
    try {
      // The same server under another host name is another site: its link is a referrer.
      const landing = `${hostOrigin}/landing?site=${site}&utm_source=newsletter&utm_medium=email&utm_campaign=${'w'.repeat(300)}&utm_content=&utm_term=shoes%20red`
      const referring = `http://localhost:${host.port}`
      await page.goto(`${referring}/link?to=${encodeURIComponent(landing)}`)
      const first = await expectEvent(page, () => page.getByRole('link', { name: 'Go' }).click())
      // The tags stay on page views at a URL that still has them, as Plausible reads them from each URL.
      const second = await expectEvent(page, () => page.evaluate(() => history.pushState(null, '', `/landing/more${location.search}`)))
      const third = await expectEvent(page, () => page.evaluate(() => history.pushState(null, '', '/plain')))
      const click = await expectEvent(page, () => page.evaluate(() => (window as unknown as WithAnalytics).analytics.track('click', '/button')))

      const tags = { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'w'.repeat(256), utm_term: 'shoes red' }
      const base = { site_id: site, derive_user_id: true, screen_width: 414 }
      const bodies = await beaconBodies(page)
      // The default referrer policy cuts a cross-origin referrer down to its origin; an empty tag is left out.
      expect(bodies[0]).toEqual({
        ...base,
        event_type: 'page_view',
        path: '/landing',
        ...tags,
        referrer: `${referring}/`,
        timestamp: expect.any(String),
        event_id: expect.any(String),
      })
      expect(bodies[1]).toEqual({
        ...base,
        event_type: 'page_view',
        path: '/landing/more',
        ...tags,
        timestamp: expect.any(String),
        event_id: expect.any(String),
      })
      expect(bodies[2]).toEqual({ ...base, event_type: 'page_view', path: '/plain', timestamp: expect.any(String), event_id: expect.any(String) })
      expect(bodies[3]).toEqual({ ...base, event_type: 'click', path: '/button', timestamp: expect.any(String), event_id: expect.any(String) })
      expect(bodies).toHaveLength(4)
      expect(sent).toHaveLength(4)

      // The API takes them all: none refused, none dropped as a bot's.
      const answers = await Promise.all([first, second, third, click].map(async (request) => (await request.response())?.status()))
      expect(answers).toEqual([202, 202, 202, 202])
      expect((await rowsOf(site, 4)).map((row) => row.path)).toEqual(['/landing', '/landing/more', '/plain', '/button'])
      // Stored with the event: the browser's family from the context's user agent, the device from the width.
      const stored = await stack.database
        .sql`select referrer, utm_source, utm_medium, utm_term, browser, device from events where site_id = ${site} order by timestamp limit 1`
      expect([...stored]).toEqual([
        { referrer: `${referring}/`, utm_source: 'newsletter', utm_medium: 'email', utm_term: 'shoes red', browser: 'Chrome', device: 'Mobile' },
      ])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a link from the same host is no referrer', async () => {
    const site = uniqueName('tracker_site')
    const { context, page, problems } = await visit(recordBeacons)
    try {
      const from = `${hostOrigin}/link?to=${encodeURIComponent(`${hostOrigin}/inside?site=${site}`)}`
      await page.goto(from)
      await expectEvent(page, () => page.getByRole('link', { name: 'Go' }).click())
      expect(await page.evaluate(() => document.referrer)).toBe(from)
      const [body = {}] = await beaconBodies(page)
      expect(body).toMatchObject({ event_type: 'page_view', path: '/inside', screen_width: 1280 })
      expect(Object.keys(body)).not.toContain('referrer')
      expect(Object.keys(body).filter((key) => key.startsWith('utm_'))).toEqual([])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('leaves a window.analytics of another tool alone and answers as window.analyticsTracker', async () => {
    const site = uniqueName('tracker_site')
    // What Segment's snippet defines before its library loads: a queue of calls.
    const { context, page, problems } = await visit(() => {
      const queued: unknown[][] = []
      Object.assign(window, { analytics: Object.assign(queued, { track: (...args: unknown[]) => queued.push(['track', ...args]) }) })
    })
    try {
      await expectEvent(page, () => page.goto(`${hostOrigin}/?site=${site}`))
      await expectEvent(page, () =>
        page.evaluate(() => {
          const w = window as unknown as WithAnalytics
          w.analytics.track('signup')
          w.analyticsTracker.track('click', '/button')
        }),
      )
      // The other tool's object is still there and got its own call; only ours reached the API.
      expect(await page.evaluate(() => [...(window as unknown as { analytics: unknown[][] }).analytics])).toEqual([['track', 'signup']])
      expect((await rowsOf(site, 2)).map((row) => [row.event_type, row.path])).toEqual([
        ['page_view', '/'],
        ['click', '/button'],
      ])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('Do Not Track: nothing is sent, and track() is still safe to call', async () => {
    const site = uniqueName('tracker_site')
    // Counts sendBeacon calls (the tracker's first way out) rather than awaiting requests: a
    // request that never comes cannot be awaited.
    const { context, page, sent, problems } = await visit(() => {
      Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })
      const counter = window as unknown as { sendCalls: number }
      counter.sendCalls = 0
      const sendBeacon = Navigator.prototype.sendBeacon
      Navigator.prototype.sendBeacon = function (...args) {
        counter.sendCalls += 1
        return sendBeacon.apply(this, args)
      }
    })
    try {
      await page.goto(`${hostOrigin}/?site=${site}`)
      const calls = await page.evaluate(() => {
        history.pushState(null, '', '/elsewhere')
        ;(window as unknown as WithAnalytics).analytics.track('click')
        return (window as unknown as { sendCalls: number }).sendCalls
      })
      expect(calls).toBe(0)
      expect(sent).toEqual([])
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})
