import { chromium, type Browser } from 'playwright-core'

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
    ],
  })
}

/**
 * A desktop Chrome's user agent for browser contexts: the API drops events of visitors whose user
 * agent is a bot's, and headless Chromium's own says "HeadlessChrome".
 */
export const DESKTOP_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36'
