/**
 * The dashboard for a team, in Chromium: the account menu and signing out, adding a viewer who
 * sees only their sites, shared links (with and without a password, revoked), API keys shown once,
 * and a time zone change followed until its rebuild commits. Numbers shown are checked against the
 * API's answers to the same questions.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { unzipSync, strFromU8 } from 'fflate'
import { readFileSync } from 'node:fs'
import { BREAKDOWN_PROPERTIES } from '../lib/visit-properties'
import { axeViolations, buildDashboard, DESKTOP_CHROME, launchChromium, settled, signedInPage } from './kit/browser'
import { startStack, uniqueName, type Stack } from './support'

let stack: Stack
let browser: Browser
const siteA = uniqueName('team_a')
const siteB = uniqueName('team_b')
const siteC = uniqueName('team_c')
const RANGE = 'from=2025-11-10&to=2025-11-14'
const artifacts = resolve(import.meta.dir, '..', '.artifacts')

beforeAll(
  async () => {
    stack = await startStack('dashboard_team', { dashboardDir: await buildDashboard() })
    browser = await launchChromium()
    mkdirSync(artifacts, { recursive: true })
    const events = [siteA, siteB, siteC].flatMap((site, s) =>
      Array.from({ length: 6 + s * 3 }, (_, i) => ({
        site_id: site,
        event_type: 'page_view',
        path: `/p${i % 3}`,
        user_id: `u${i % 4}`,
        timestamp: `2025-11-1${i % 5}T1${i % 10}:00:00Z`,
      })),
    )
    await stack.store(events)
  },
  { timeout: 120_000 },
)
afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(stack.baseUrl + path, {
    method,
    headers: { ...stack.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  expect(response.status).toBeLessThan(300)
  return (response.status === 204 ? undefined : await response.json()) as T
}

async function adminPage(path: string, viewport = { width: 1280, height: 800 }) {
  // bypassCSP lets axe-core be injected; the pages' policy refuses inline scripts.
  const visit = await signedInPage(browser, stack.baseUrl, stack.admin, viewport, { bypassCSP: true, acceptDownloads: true })
  await visit.page.goto(stack.baseUrl + path)
  await settled(visit.page)
  return visit
}

/** A browser with no session at all, as a shared link's recipient has. */
async function stranger(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', userAgent: DESKTOP_CHROME, bypassCSP: true })
  return { context, page: await context.newPage() }
}

const count = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, ''))

describe('the account menu', () => {
  test('names the account, and signing out ends the session', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteA}&${RANGE}`)
    try {
      await expect(page.getByTestId('account-name').textContent()).resolves.toBe(`${stack.admin.user} (admin)`)
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.waitForURL((url) => url.pathname === '/login')
      const again = await page.goto(`${stack.baseUrl}/?site=${siteA}`)
      expect(new URL(again!.url()).pathname).toBe('/login')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('shared links', () => {
  test('a link opens that site alone, with the API’s numbers; one with a password asks for it; a revoked one stops', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteA}&${RANGE}#settings`)
    const visitor = await stranger()
    try {
      const links = page.getByTestId('shared-links')
      const form = links.getByRole('form', { name: 'Make a shared link' })
      await form.getByLabel('Name (optional)').fill('client')
      await form.getByRole('button', { name: 'Make shared link' }).click()
      const url = (await links.getByTestId('shared-links-made').textContent())!
      expect(url).toMatch(new RegExp(`^${stack.baseUrl}/share/sl_[A-Za-z0-9_-]{43}$`))
      await links.getByTestId('shared-links-row').first().waitFor()

      await visitor.page.goto(`${url}?${RANGE}&tz=UTC`)
      await visitor.page.getByTestId('shared-site').waitFor()
      await settled(visitor.page)
      await expect(visitor.page.getByTestId('shared-site').textContent()).resolves.toBe(`${siteA} · shared view`)
      const stats = (await (await stack.get(`/stats?site_id=${siteA}&${RANGE}&tz=UTC`)).json()) as { total_views: number; visitors: number }
      expect(count(await visitor.page.getByTestId('headline-views').textContent())).toBe(stats.total_views)
      expect(await visitor.page.getByTestId('site-picker').count()).toBe(0)
      expect(await visitor.page.getByRole('link', { name: 'Settings' }).count()).toBe(0)
      expect(await visitor.page.getByRole('heading', { name: 'Ingestion health' }).count()).toBe(0)
      await visitor.page.screenshot({ path: join(artifacts, 'shared-link.png'), fullPage: true })
      expect(await axeViolations(visitor.page)).toEqual([])

      // A link behind a password.
      await form.getByLabel('Name (optional)').fill('board')
      await form.getByLabel('Password (optional)').fill('open sesame')
      await form.getByRole('button', { name: 'Make shared link' }).click()
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="shared-links-row"]').length === 2)
      const guarded = (await links.getByTestId('shared-links-made').textContent())!
      const other = await stranger()
      try {
        await other.page.goto(guarded)
        const gate = other.page.getByRole('form', { name: 'Open the shared dashboard' })
        await gate.getByLabel('Password').fill('wrong')
        await gate.getByRole('button', { name: 'Open' }).click()
        await expect(other.page.getByRole('alert').textContent()).resolves.toBe('Wrong password for this shared link')
        await gate.getByLabel('Password').fill('open sesame')
        await gate.getByRole('button', { name: 'Open' }).click()
        await other.page.getByTestId('shared-site').waitFor()
      } finally {
        await other.context.close()
      }

      // Revoking the first link: its page refuses from then on.
      await links.getByRole('button', { name: 'Revoke client' }).click()
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="shared-links-row"]').length === 1)
      await visitor.page.reload()
      await visitor.page.getByText('This shared link does not exist or was revoked').waitFor()
      expect(problems).toEqual([])
    } finally {
      await visitor.context.close()
      await context.close()
    }
  })

  test('an API key is shown once and reads the site', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteA}&${RANGE}#settings`)
    try {
      const keys = page.getByTestId('api-keys')
      await keys.getByLabel('Name').fill('grafana')
      await keys.getByRole('button', { name: 'Make API key' }).click()
      const key = (await keys.getByTestId('api-keys-made').textContent())!
      expect(key).toMatch(/^ak_/)
      expect((await stack.get(`/stats?site_id=${siteA}&date=2025-11-10`, { authorization: `Bearer ${key}` })).status).toBe(200)
      await page.reload()
      await keys.getByTestId('api-keys-row').first().waitFor()
      expect(await keys.getByTestId('api-keys-made').count()).toBe(0)
      expect(await page.content()).not.toContain(key)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('users', () => {
  test('an admin adds a viewer, who chooses a password, sees only their site, and is signed out when disabled', async () => {
    const { context, page, problems } = await adminPage('/#users')
    const viewer = await stranger()
    try {
      const form = page.getByRole('form', { name: 'Add a user' })
      await form.getByLabel('Username').fill('ana')
      await form.getByLabel('First password (they choose their own at the first sign-in)').fill('first-password')
      await form.getByRole('checkbox', { name: siteA }).check()
      await form.getByRole('button', { name: 'Add user' }).click()
      await page.locator('[data-testid="user-row"][data-value="ana"]').waitFor()
      await page.screenshot({ path: join(artifacts, 'users.png'), fullPage: true })
      expect(await axeViolations(page)).toEqual([])

      await viewer.page.goto(`${stack.baseUrl}/login`)
      await viewer.page.getByLabel('User').fill('ana')
      await viewer.page.getByLabel('Password').fill('first-password')
      await viewer.page.getByRole('button', { name: 'Sign in' }).click()
      await viewer.page.waitForURL((url) => url.pathname === '/account/password')
      await viewer.page.getByLabel('Current password').fill('first-password')
      await viewer.page.getByLabel('New password (at least 8 characters)').fill('ana-own-password')
      await viewer.page.getByRole('button', { name: 'Save' }).click()
      await viewer.page.waitForURL((url) => url.pathname === '/')
      await viewer.page.getByTestId('site-picker').waitFor()
      await settled(viewer.page)
      expect(await viewer.page.getByTestId('site-picker').locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual([
        siteA,
      ])
      await expect(viewer.page.getByTestId('account-name').textContent()).resolves.toBe('ana (viewer)')
      expect(await viewer.page.getByRole('link', { name: 'Settings' }).count()).toBe(0)
      expect(await viewer.page.getByRole('heading', { name: 'Ingestion health' }).count()).toBe(0)
      expect(await viewer.page.getByRole('heading', { name: 'Goals and funnels' }).count()).toBe(0)

      await page.getByRole('button', { name: 'Disable ana' }).click()
      await page.locator('[data-testid="user-row"][data-value="ana"]', { hasText: 'disabled' }).waitFor()
      await viewer.page.reload()
      await viewer.page.waitForURL((url) => url.pathname === '/login')
      expect(problems).toEqual([])
    } finally {
      await viewer.context.close()
      await context.close()
    }
  })
})

describe('site settings', () => {
  test('a new time zone rebuilds the rollups, shown until the rebuild commits', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteB}&${RANGE}#settings`)
    try {
      await page.getByTestId('settings-zone').selectOption('Asia/Tokyo')
      await page.getByRole('button', { name: 'Save and rebuild' }).click()
      const status = page.getByTestId('rebuild-status')
      await page.locator('[data-testid="rebuild-status"][data-state="completed"]').waitFor()
      await expect(status.textContent()).resolves.toContain('Rebuilt: the site now reports in Asia/Tokyo.')
      const { sites } = await api<{ sites: { site_id: string; rollup_timezone: string }[] }>('GET', '/sites')
      expect(sites.find((site) => site.site_id === siteB)!.rollup_timezone).toBe('Asia/Tokyo')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('the view, exported', () => {
  test('Export downloads a zip of the time series and every breakdown, each the API’s own CSV', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteA}&${RANGE}&tz=UTC`)
    try {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button').click()])
      expect(download.suggestedFilename()).toBe(`${siteA}_2025-11-10_2025-11-14.zip`)
      const files = unzipSync(new Uint8Array(readFileSync((await download.path())!)))
      const csv = async (path: string) => (await stack.get(path, stack.adminHeaders)).text()
      const query = `site_id=${siteA}&from=2025-11-10&to=2025-11-14&tz=UTC`
      const expected: Record<string, string> = { 'timeseries.csv': await csv(`/stats/timeseries?${query}&interval=day&format=csv`) }
      for (const property of [...BREAKDOWN_PROPERTIES, 'goal']) {
        expected[`${property}.csv`] = await csv(`/stats/breakdown?${query}&property=${property}&limit=1000&format=csv`)
      }
      expect(Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, strFromU8(bytes)]))).toEqual(expected)
      expect(expected['page.csv']!.split('\r\n')[0]).toBe('value,visitors,views')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('site settings, more', () => {
  test('the zone picker offers only zones the API answers exactly, and says why for the others', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteA}&${RANGE}`)
    try {
      const option = (zone: string) => page.getByTestId('tz-picker').locator(`option[value="${zone}"]`)
      expect(await option('Europe/Paris').isDisabled()).toBe(false)
      expect(await option('Asia/Kolkata').isDisabled()).toBe(true)
      await expect(option('Asia/Kolkata').textContent()).resolves.toBe('Asia/Kolkata (not exact: +05:30, not whole hours from UTC)')
      // Past 31 days another zone's time series cannot be answered at all.
      await page.goto(`${stack.baseUrl}/?site=${siteA}&from=2025-10-01&to=2025-11-14`)
      await settled(page)
      await expect(option('Europe/Paris').textContent()).resolves.toBe('Europe/Paris (not exact: over 31 days)')
      expect(await option('Europe/Paris').isDisabled()).toBe(true)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('deleting the site’s data needs its id typed, and reports what it removed', async () => {
    const { context, page, problems } = await adminPage(`/?site=${siteC}&${RANGE}#settings`)
    try {
      expect(await axeViolations(page)).toEqual([])
      await page.screenshot({ path: join(artifacts, 'settings.png'), fullPage: true })
      const form = page.getByRole('form', { name: "Delete this site's data" })
      const button = form.getByRole('button', { name: "Delete this site's data" })
      expect(await button.isDisabled()).toBe(true)
      await form.getByLabel('Type the site id to confirm').fill(`${siteC}x`)
      expect(await button.isDisabled()).toBe(true)
      const [before] = await stack.database.sql<{ events: number }[]>`select count(*)::int as events from events where site_id = ${siteC}`
      const events = before!.events
      expect(events).toBeGreaterThan(0)
      await form.getByLabel('Type the site id to confirm').fill(siteC)
      await button.click()
      await expect(page.getByTestId('deleted-counts').textContent()).resolves.toStartWith(`Deleted ${events} events, `)
      const [after] = await stack.database.sql<{ events: number }[]>`select count(*)::int as events from events where site_id = ${siteC}`
      expect(after!.events).toBe(0)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe('on a phone', () => {
  test('Settings, Users and a shared view fit 375 px without sideways scrolling, with no serious or critical axe finding', async () => {
    const phone = { width: 375, height: 812 }
    const { context, page, problems } = await adminPage(`/?site=${siteA}&${RANGE}#settings`, phone)
    try {
      for (const hash of ['#settings', '#users']) {
        await page.goto(`${stack.baseUrl}/?site=${siteA}&${RANGE}${hash}`)
        await settled(page)
        await page.screenshot({ path: join(artifacts, `phone-${hash.slice(1)}.png`), fullPage: true })
        expect({ hash, width: await page.evaluate(() => document.documentElement.scrollWidth) }).toEqual({ hash, width: phone.width })
        expect(await axeViolations(page)).toEqual([])
      }
      const link = await api<{ url: string }>('POST', `/sites/${siteA}/shared-links`, {})
      const shared = await browser.newContext({ viewport: phone, locale: 'en-US', userAgent: DESKTOP_CHROME, bypassCSP: true })
      try {
        const view = await shared.newPage()
        await view.goto(`${link.url}?${RANGE}`)
        await view.getByTestId('shared-site').waitFor()
        await settled(view)
        expect(await view.evaluate(() => document.documentElement.scrollWidth)).toBe(phone.width)
        expect(await axeViolations(view)).toEqual([])
      } finally {
        await shared.close()
      }
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})
