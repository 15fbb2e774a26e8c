import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../tests/kit/browser'
import { startStack, type Stack } from '../tests/support'
import { ASSETS_PATH } from './openapi'

let stack: Stack
let browser: Browser
beforeAll(async () => {
  stack = await startStack('openapi')
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

test('the reference page names only same-origin scripts and styles, and its bundle is served', async () => {
  const response = await stack.get('/openapi')
  expect(response.status).toBe(200)
  expect(response.headers.get('content-security-policy')).toContain("default-src 'self'")
  const html = await response.text()
  const urls = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']/g)].map((match) => match[1])
  expect(urls).toEqual([`${ASSETS_PATH}/swagger-ui.css`, `${ASSETS_PATH}/swagger-ui-bundle.js`, `${ASSETS_PATH}/initializer.js`])
  expect(html).not.toMatch(/https?:\/\//)

  const bundle = await stack.get(`${ASSETS_PATH}/swagger-ui-bundle.js`)
  expect(bundle.status).toBe(200)
  expect(bundle.headers.get('content-type')).toStartWith('text/javascript')
  expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000)
  const styles = await stack.get(`${ASSETS_PATH}/swagger-ui.css`)
  expect(styles.headers.get('content-type')).toStartWith('text/css')
})

test('/openapi/json still describes every route', async () => {
  const doc = (await (await stack.get('/openapi/json')).json()) as { info: { title: string }; paths: Record<string, Record<string, { summary?: string }>> }
  expect(doc.info.title).toBe('Analytics API')
  expect(doc.paths['/event']?.post?.summary).toBe('Record one event')
  expect(Object.keys(doc.paths)).toContain('/stats/timeseries')
  expect(Object.keys(doc.paths).filter((path) => path.startsWith('/openapi'))).toEqual([])
})

test('/openapi/json describes the export, the deletion and format=csv', async () => {
  type Operation = { summary?: string; description?: string; parameters?: { name: string; in: string }[]; responses?: Record<string, { content?: object }> }
  const doc = (await (await stack.get('/openapi/json')).json()) as { paths: Record<string, Record<string, Operation>> }
  const exported = doc.paths['/sites/{id}/export']?.get
  expect(exported?.summary).toStartWith("A site's raw events, streamed")
  expect(exported?.parameters?.map((parameter) => `${parameter.in} ${parameter.name}`)).toEqual(['path id', 'query from', 'query to', 'query format'])
  expect(Object.keys(exported?.responses?.['200']?.content ?? {})).toEqual(['text/csv', 'application/x-ndjson'])
  const deletion = doc.paths['/sites/{id}']?.delete
  expect(deletion?.summary).toStartWith("Delete a site's data (admin)")
  expect(deletion?.parameters?.map((parameter) => `${parameter.in} ${parameter.name}`)).toEqual(['path id', 'query confirm'])
  for (const path of ['/stats/timeseries', '/stats/breakdown']) {
    const operation = doc.paths[path]?.get
    expect(operation?.parameters?.map((parameter) => parameter.name)).toContain('format')
    expect(operation?.description).toContain('With format=csv, the same rows as text/csv')
  }
})

test('Chromium, cut off from everything but this server, renders the reference under the page CSP', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const elsewhere: string[] = []
  const problems: string[] = []
  const origin = new URL(stack.baseUrl).origin
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue()
    elsewhere.push(route.request().url())
    return route.abort()
  })
  await page.addInitScript(() => {
    const seen: string[] = ((window as unknown as { violations: string[] }).violations = [])
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`))
  })
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    // The browser's notes on refused requests and CSP reports are checked below, by what was refused.
    const text = message.text()
    if (message.type() === 'error' && !text.startsWith('Failed to load resource') && !text.includes("'default-src' is used as a fallback"))
      problems.push(`console: ${text}`)
  })
  try {
    await page.goto(`${stack.baseUrl}/openapi`)
    await page.getByText('Record one event').first().waitFor({ timeout: 20_000 })
    expect(problems).toEqual([])
    expect(elsewhere).toEqual([])
    const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations)
    expect(violations).toEqual([])
  } finally {
    await context.close()
  }
})
