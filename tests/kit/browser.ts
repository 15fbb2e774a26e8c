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
