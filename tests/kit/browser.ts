import { chromium, type Browser } from 'playwright-core'

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
