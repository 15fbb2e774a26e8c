/** Bull Board in a real browser: refused without a session, reached through the login form. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser } from 'playwright-core'
import { launchChromium } from './kit/browser'
import { startStack, type Stack } from './support'

const artifacts = join(resolve(import.meta.dir, '..'), '.artifacts')
let stack: Stack
let browser: Browser

beforeAll(async () => {
  stack = await startStack('board_ui')
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await stack.close()
})

test('without a session the board is refused and the login form shown; with credentials it lists the queue', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const first = await page.goto(`${stack.baseUrl}/admin/queues`)
  expect(new URL(page.url()).pathname).toBe('/login')
  expect(first?.status()).toBe(200) // the login form, after the 302
  expect(await page.locator('#root, .app').count()).toBe(0) // no board markup was served

  await page.fill('input[name=user]', stack.admin.user)
  await page.fill('input[name=password]', 'wrong')
  await page.click('button[type=submit]')
  await page.getByRole('alert').waitFor()
  expect(await page.getByRole('alert').textContent()).toBe('Wrong user or password.')

  await page.fill('input[name=user]', stack.admin.user)
  await page.fill('input[name=password]', stack.admin.password)
  await page.click('button[type=submit]')
  await page.waitForURL(`${stack.baseUrl}/admin/queues`)
  // The board's own UI renders the queue by name once its API answered.
  await page.getByText(stack.location.name, { exact: false }).first().waitFor({ timeout: 15_000 })
  mkdirSync(artifacts, { recursive: true })
  await page.screenshot({ path: join(artifacts, 'bull-board.png'), fullPage: true })
  await page.close()
})
