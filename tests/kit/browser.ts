import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'

/** A desktop Chrome's agent: headless Chromium names itself HeadlessChrome, whose events the bot filter drops. */
export const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'

/**
 * Debian's Chromium, headless, for the browser tests (playwright-core never downloads a browser
 * here). Without the background-networking flags it keeps calling out to a network this machine
 * does not have.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-agent=${DESKTOP_CHROME}`,
    ],
  })
}

/** The built dashboard (`bun run build:dashboard`, which rebuilds only when its sources changed), for startStack's dashboardDir. */
export async function buildDashboard(): Promise<string> {
  const root = resolve(import.meta.dir, '../..')
  const build = Bun.spawn(['bun', 'run', 'build:dashboard'], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  if ((await build.exited) !== 0) throw new Error(`dashboard build failed:\n${await new Response(build.stderr).text()}`)
  return join(root, 'dashboard', 'dist')
}

export interface Visit {
  context: BrowserContext
  page: Page
  /** Uncaught exceptions and console errors other than the browser's note on a refused request. */
  problems: string[]
}

/**
 * A signed-in browser context: the login form's session cookie rides along with the page's API
 * calls. `options` add to the context's (`hasTouch` for a touch screen).
 */
export async function signedInPage(
  browser: Browser,
  baseUrl: string,
  admin: { user: string; password: string },
  viewport = { width: 1280, height: 800 },
  options: BrowserContextOptions = {},
): Promise<Visit> {
  const context = await browser.newContext({ viewport, locale: 'en-US', ...options })
  const login = await context.request.post(`${baseUrl}/login`, { form: admin, maxRedirects: 0 })
  if (login.status() !== 303) throw new Error(`signing in answered ${login.status()}, not 303`)
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    // The browser's own note on a 404 (its favicon) is no problem of the page.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`)
  })
  return { context, page, problems }
}

/** Until no panel shows a loading placeholder (bounded). */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.skeleton').length === 0, null, { timeout: 10_000 })
}

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

const AXE = resolve(import.meta.dir, '../../node_modules/axe-core/axe.min.js')

/**
 * axe-core's serious and critical violations on the page as it is. It is injected as an inline
 * script, which the pages' content security policy refuses: the context needs `bypassCSP`.
 */
export async function axeViolations(page: Page): Promise<{ id: string; help: string; targets: string[][] }[]> {
  await page.addScriptTag({ path: AXE })
  const { violations, passed } = await page.evaluate(async () => {
    const results = await (window as unknown as { axe: { run: () => Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe.run()
    return { violations: results.violations, passed: results.passes.length }
  })
  // axe ran its rules on this page (an empty list of violations alone would not say so).
  if (passed <= 10) throw new Error(`axe passed only ${passed} rules: it did not run on this page`)
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({ id: violation.id, help: violation.help, targets: violation.nodes.map((node) => node.target) }))
}
