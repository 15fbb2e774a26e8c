/**
 * Filters, goals, funnels and their settings in the dashboard, in Chromium: clicking a row filters
 * every panel (chips in the URL, removable), the Goals panel with a goal's custom properties, the
 * Funnels view, and adding and deleting goals and funnels. Every number shown is checked against
 * the API's answer to the query the page made.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { buildDashboard, launchChromium, settled, signedInPage } from './kit/browser'
import { startStack, uniqueName, type Stack } from './support'

let stack: Stack
let browser: Browser
const site = uniqueName('conversions_ui')
const VIEW = `/?site=${site}&from=2025-11-10&to=2025-11-14&tz=UTC`

/** 60 visitors over five days: every third from Google, some reading the blog, some signing up (on plans) after it. */
function seed(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = []
  for (let visitor = 0; visitor < 60; visitor++) {
    const day = `2025-11-${10 + (visitor % 5)}`
    const at = (minute: number) => `${day}T${String(8 + (visitor % 10)).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`
    const base = { site_id: site, user_id: `u${visitor}` }
    events.push({
      ...base,
      event_type: 'page_view',
      path: visitor % 2 ? '/blog/post' : '/pricing',
      timestamp: at(0),
      ...(visitor % 3 === 0 ? { referrer: 'https://www.google.com/' } : {}),
    })
    if (visitor % 4 !== 3) events.push({ ...base, event_type: 'page_view', path: '/blog/other', timestamp: at(5) })
    if (visitor % 5 < 2)
      events.push({ ...base, event_type: 'signup', path: '/join', timestamp: at(9), props: { plan: visitor % 2 ? 'pro' : 'free', seats: visitor % 3 } })
  }
  return events
}

async function admin(path: string, body?: unknown): Promise<Record<string, string>> {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...stack.adminHeaders, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  expect(response.status).toBeLessThan(300)
  return (await response.json()) as Record<string, string>
}

beforeAll(
  async () => {
    stack = await startStack('dashboard_conversions', { dashboardDir: await buildDashboard() })
    browser = await launchChromium()
    const response = await stack.post('/events', { events: seed() })
    expect(response.status).toBe(202)
    await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
    await stack.flush()
    const signup = await admin(`/sites/${site}/goals`, { event_type: 'signup', name: 'Signed up' })
    const blog = await admin(`/sites/${site}/goals`, { page: '/blog/*', name: 'Read the blog' })
    await admin(`/sites/${site}/funnels`, { name: 'Blog to sign-up', steps: [blog.goal_id, signup.goal_id] })
  },
  { timeout: 120_000 },
)
afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

/**
 * The API's answer to a question the page asks, asked outside the browser. The tests wait for
 * what the page shows rather than for its responses: Playwright's client can lose track of a
 * request the page aborted (when a filter changes what the panels ask) and fail the wait.
 */
async function apiGet<T>(path: string, params: Record<string, string>): Promise<T> {
  const answer = await stack.get(`${path}?${new URLSearchParams({ site_id: site, from: '2025-11-10', to: '2025-11-14', tz: 'UTC', ...params })}`)
  expect(answer.status).toBe(200)
  return (await answer.json()) as T
}

const number = new Intl.NumberFormat('en-US')
const rate = (value: number) => new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(value / 100)

/** Waits until the page shows what a change led to, and nothing is loading any more. */
async function after(page: Page, shown: () => Promise<unknown> | void): Promise<void> {
  await shown()
  await settled(page)
}

async function open(path = VIEW) {
  const visit = await signedInPage(browser, stack.baseUrl, stack.admin)
  await visit.page.goto(stack.baseUrl + path)
  await settled(visit.page)
  return visit
}

describe('filters', () => {
  test('clicking a row filters every panel; the chip lives in the URL and removing it brings the whole back', async () => {
    const { context, page, problems } = await open()
    try {
      const unfiltered = await page.getByTestId('headline-visitors').textContent()
      await page.getByTestId('sources').getByRole('button', { name: 'Filter by Google' }).click()
      await after(page, () => expect(page.getByTestId('filter-chip').textContent()).resolves.toBe('Source is Google×'))
      expect(new URL(page.url()).searchParams.get('filters')).toBe('source==Google')
      const { visitors } = await apiGet<{ visitors: number }>('/stats', { filters: 'source==Google' })
      await expect(page.getByTestId('headline-visitors').textContent()).resolves.toBe(number.format(visitors))
      expect(number.format(visitors)).not.toBe(unfiltered)
      const pages = await apiGet<{ results: { value: string }[] }>('/stats/breakdown', { property: 'page', limit: '10', filters: 'source==Google' })
      expect(
        await page
          .getByTestId('pages')
          .locator('[data-testid="pages-row"]')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-value'))),
      ).toEqual(pages.results.map((row) => row.value))

      // A link with the filter opens filtered.
      const linked = await context.newPage()
      await linked.goto(page.url())
      await settled(linked)
      await expect(linked.getByTestId('headline-visitors').textContent()).resolves.toBe(number.format(visitors))
      await expect(linked.getByTestId('filter-chip').textContent()).resolves.toBe('Source is Google×')
      await linked.close()

      await page.getByRole('button', { name: 'Remove filter Source is Google' }).click()
      await after(page, () => page.waitForFunction(() => document.querySelectorAll('[data-testid="filter-chip"]').length === 0))
      expect(new URL(page.url()).searchParams.has('filters')).toBe(false)
      await expect(page.getByTestId('headline-visitors').textContent()).resolves.toBe(unfiltered)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('two filters from two panels hold together', async () => {
    const { context, page } = await open()
    try {
      await page.getByTestId('sources').getByRole('button', { name: 'Filter by Google' }).click()
      await after(page, () => page.getByTestId('filter-chip').waitFor())
      await page.getByRole('button', { name: 'Filter by signup' }).click()
      await after(page, () => page.waitForFunction(() => document.querySelectorAll('[data-testid="filter-chip"]').length === 2))
      const { visitors } = await apiGet<{ visitors: number }>('/stats', { filters: 'source==Google;event_type==signup' })
      await expect(page.getByTestId('headline-visitors').textContent()).resolves.toBe(number.format(visitors))
    } finally {
      await context.close()
    }
  })
})

describe('goals and funnels', () => {
  test('the Goals panel lists conversions and rates; choosing a goal shows the custom properties of its visits', async () => {
    const { context, page } = await open()
    try {
      const rows = (
        await apiGet<{ results: { value: string; visitors: number; conversion_rate: number }[] }>('/stats/breakdown', { property: 'goal', limit: '100' })
      ).results
      expect(rows.map((row) => row.value)).toEqual(['Read the blog', 'Signed up'])
      const shown = await page
        .locator('[data-testid="goals-row"]')
        .evaluateAll((list) =>
          list.map((row) => [
            row.getAttribute('data-value'),
            row.querySelector('[data-testid="goals-visitors"]')?.textContent,
            row.querySelector('[data-testid="goals-rate"]')?.textContent,
          ]),
        )
      expect(shown).toEqual(rows.map((row) => [row.value, number.format(row.visitors), rate(row.conversion_rate)]))

      await page.getByRole('button', { name: 'Filter by goal Signed up' }).click()
      const properties = page.getByTestId('goal-properties')
      await after(page, () => properties.getByRole('tab', { name: 'plan' }).waitFor())
      const filters = 'goal==Signed up'
      const keys = await apiGet<{ results: { value: string }[] }>('/stats/breakdown', { property: 'props', limit: '100', filters })
      expect(keys.results.map((row) => row.value)).toEqual(['plan', 'seats'])
      expect(await properties.getByRole('tab').allTextContents()).toEqual(['plan', 'seats'])
      await expect(properties.getByRole('tab', { name: 'plan' }).getAttribute('aria-selected')).resolves.toBe('true')
      const plans = await apiGet<{ results: { value: string; visitors: number }[] }>('/stats/breakdown', { property: 'props:plan', limit: '100', filters })
      expect(await properties.locator('[data-testid="prop-values-row"]').evaluateAll((list) => list.map((row) => row.getAttribute('data-value')))).toEqual(
        plans.results.map((row) => row.value),
      )
      expect(await properties.locator('[data-testid="prop-values-count"]').allTextContents()).toEqual(plans.results.map((row) => number.format(row.visitors)))
      await properties.getByRole('tab', { name: 'seats' }).click()
      await after(page, () => expect(properties.getByRole('tab', { name: 'seats' }).getAttribute('aria-selected')).resolves.toBe('true'))
      const seats = await apiGet<{ results: { value: string }[] }>('/stats/breakdown', { property: 'props:seats', limit: '100', filters })
      expect(await properties.locator('[data-testid="prop-values-row"]').evaluateAll((list) => list.map((row) => row.getAttribute('data-value')))).toEqual(
        seats.results.map((row) => row.value),
      )
    } finally {
      await context.close()
    }
  })

  test('the Funnels view shows each step: visitors, conversion and drop-off', async () => {
    const { context, page } = await open()
    try {
      const { funnels } = (await admin(`/sites/${site}/funnels`)) as unknown as { funnels: { funnel_id: string }[] }
      const { steps } = await apiGet<{ steps: { name: string; visitors: number; conversion_rate: number; dropoff: number }[] }>('/stats/funnel', {
        funnel_id: funnels[0]!.funnel_id,
      })
      expect(steps[1]!.visitors).toBeGreaterThan(0)
      expect(steps[1]!.dropoff).toBeGreaterThan(0)
      const funnel = page.getByTestId('funnels')
      expect(await funnel.getByTestId('funnel-step-name').allTextContents()).toEqual(steps.map((step, i) => `${i + 1}. ${step.name}`))
      expect(await funnel.getByTestId('funnel-step-visitors').allTextContents()).toEqual(steps.map((step) => number.format(step.visitors)))
      expect(await funnel.getByTestId('funnel-step-rate').allTextContents()).toEqual(steps.map((step) => rate(step.conversion_rate)))
      expect(await funnel.getByTestId('funnel-step-dropoff').allTextContents()).toEqual(steps.slice(1).map((step) => number.format(step.dropoff)))
    } finally {
      await context.close()
    }
  })

  test('Settings adds and deletes goals and funnels, and shows what the API refuses', async () => {
    const { context, page, problems } = await open()
    try {
      const settings = page.getByTestId('conversion-settings')
      const goalForm = settings.getByRole('form', { name: 'Add a goal' })
      await goalForm.getByLabel('Event type').fill('signup')
      await goalForm.getByRole('button', { name: 'Add goal' }).click()
      await expect(settings.getByTestId('settings-problem').textContent()).resolves.toBe('goal "Signed up" already counts event type signup')
      // What was typed stays, to be corrected.
      await expect(goalForm.getByLabel('Event type').inputValue()).resolves.toBe('signup')

      await goalForm.getByLabel('Counts').selectOption('page')
      await goalForm.getByLabel('Page (* matches anything)').fill('/pricing')
      await goalForm.getByLabel('Name (optional)').fill('Saw pricing')
      await goalForm.getByRole('button', { name: 'Add goal' }).click()
      await after(page, () => settings.locator('[data-testid="settings-goal"][data-value="Saw pricing"]').waitFor())
      expect(await settings.getByTestId('settings-problem').count()).toBe(0)
      expect(await page.locator('[data-testid="goals-row"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-value')))).toContain('Saw pricing')

      const funnelForm = settings.getByRole('form', { name: 'Add a funnel' })
      await funnelForm.getByLabel('Funnel name').fill('Pricing to sign-up')
      await funnelForm.getByLabel('Step 1').selectOption({ label: 'Saw pricing' })
      await funnelForm.getByLabel('Step 2').selectOption({ label: 'Signed up' })
      await funnelForm.getByRole('button', { name: 'Add funnel' }).click()
      await after(page, () => settings.locator('[data-testid="settings-funnel"][data-value="Pricing to sign-up"]').waitFor())
      await expect(settings.locator('[data-testid="settings-funnel"][data-value="Pricing to sign-up"]').textContent()).resolves.toContain(
        'Saw pricing → Signed up',
      )
      await expect(page.getByTestId('funnel-picker').locator('option').allTextContents()).resolves.toEqual(['Blog to sign-up', 'Pricing to sign-up'])

      // A goal in a funnel stays until the funnel goes.
      await settings.getByRole('button', { name: 'Delete goal Saw pricing' }).click()
      await expect(settings.getByTestId('settings-problem').textContent()).resolves.toBe(
        'the goal is a step of funnel "Pricing to sign-up"; delete that funnel first',
      )
      await settings.getByRole('button', { name: 'Delete funnel Pricing to sign-up' }).click()
      await after(page, () => page.waitForFunction(() => !document.querySelector('[data-testid="settings-funnel"][data-value="Pricing to sign-up"]')))
      await expect(page.getByTestId('funnel-picker').locator('option').allTextContents()).resolves.toEqual(['Blog to sign-up'])
      await settings.getByRole('button', { name: 'Delete goal Saw pricing' }).click()
      await after(page, () => page.waitForFunction(() => !document.querySelector('[data-testid="settings-goal"][data-value="Saw pricing"]')))
      expect(await settings.locator('[data-testid="settings-goal"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-value')))).toEqual([
        'Signed up',
        'Read the blog',
      ])
      expect(await admin(`/sites/${site}/goals`)).toMatchObject({ goals: [{ name: 'Signed up' }, { name: 'Read the blog' }] })
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })
})
