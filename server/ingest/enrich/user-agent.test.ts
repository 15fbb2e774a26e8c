import { describe, expect, test } from 'bun:test'
import { agentOf, type Agent } from './user-agent'

const browser = (name: string | null, os: string | null, deviceType: Agent['deviceType'] = null): Agent => ({ kind: 'browser', browser: name, os, deviceType })
const CLIENT: Agent = { kind: 'client', browser: null, os: null, deviceType: null }

describe('agentOf: browsers', () => {
  const cases: [string, string, Agent][] = [
    [
      'Chrome on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      browser('Chrome', 'Windows'),
    ],
    [
      'Safari on macOS',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
      browser('Safari', 'macOS'),
    ],
    [
      'Mobile Safari on iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
      browser('Safari', 'iOS', 'mobile'),
    ],
    [
      'Safari on iPad',
      'Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
      browser('Safari', 'iPadOS', 'tablet'),
    ],
    [
      'Chrome on iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
      browser('Chrome', 'iOS', 'mobile'),
    ],
    [
      'Chrome on an Android phone',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
      browser('Chrome', 'Android', 'mobile'),
    ],
    [
      'Chrome on an Android tablet',
      'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      browser('Chrome', 'Android', 'tablet'),
    ],
    [
      'Chrome WebView counts as Chrome',
      'Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36',
      browser('Chrome', 'Android', 'mobile'),
    ],
    [
      'Samsung Internet',
      'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
      browser('Samsung Internet', 'Android', 'mobile'),
    ],
    ['Firefox on Linux', 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', browser('Firefox', 'Linux')],
    ['Firefox on Ubuntu counts as Linux', 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', browser('Firefox', 'Linux')],
    ['Firefox on Fedora counts as Linux', 'Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', browser('Firefox', 'Linux')],
    ['Firefox on Android', 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0', browser('Firefox', 'Android', 'mobile')],
    [
      'Firefox Focus counts as Firefox',
      'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Focus/125.0 Chrome/124.0.0.0 Mobile Safari/537.36',
      browser('Firefox', 'Android', 'mobile'),
    ],
    [
      'Edge on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
      browser('Edge', 'Windows'),
    ],
    [
      'Opera on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0',
      browser('Opera', 'Windows'),
    ],
    [
      'Chrome on ChromeOS',
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      browser('Chrome', 'ChromeOS'),
    ],
    [
      'Chromium stays Chromium',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/124.0.0.0 Chrome/124.0.0.0 Safari/537.36',
      browser('Chromium', 'Linux'),
    ],
    [
      'other browsers as ua-parser names them',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21',
      browser('Vivaldi', 'Windows'),
    ],
  ]
  test.each(cases)('%s', (_, ua, expected) => expect(agentOf(ua)).toEqual(expected))

  test('unknown browser and OS are null', () => {
    expect(agentOf('Mozilla/5.0 (Foo 1.0) Gecko/20100101 Bar/2.0')).toEqual(browser(null, null))
  })
})

describe('agentOf: bots', () => {
  const bots: [string, string][] = [
    ['Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
    [
      'Googlebot smartphone',
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    ],
    ['bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'],
    ['HeadlessChrome', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36'],
    ['AhrefsBot', 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)'],
  ]
  test.each(bots)('%s', (_, ua) => expect(agentOf(ua).kind).toBe('bot'))
})

describe('agentOf: HTTP clients', () => {
  const clients = [
    'curl/8.5.0',
    'Wget/1.21',
    'python-requests/2.31.0',
    'Python-urllib/3.12',
    'Python/3.12 aiohttp/3.9.5',
    'Go-http-client/1.1',
    'Go-http-client/2.0',
    'okhttp/4.12.0',
    'axios/1.6.8',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    'node-fetch',
    'undici',
    'node',
    'Bun/1.4.5',
    'Deno/1.40.0',
    'HTTPie/3.2.2',
    'Java-http-client/21.0.2',
    'Java/1.8.0_392',
    'Apache-HttpClient/4.5.14 (Java/17.0.9)',
    'libwww-perl/6.72',
    'GuzzleHttp/7',
    'PostmanRuntime/7.37.3',
    'insomnia/2023.5.8',
    'Dart/3.3 (dart:io)',
    'Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.2506',
  ]
  test.each(clients)('%s', (ua) => expect(agentOf(ua)).toEqual(CLIENT))

  test('an empty user agent is a client (a server posting without one)', () => {
    expect(agentOf('')).toEqual(CLIENT)
    expect(agentOf('  ')).toEqual(CLIENT)
  })

  test('a token must be the whole product name', () => {
    expect(agentOf('curlybot/1.0').kind).toBe('bot')
    expect(agentOf('nodejs-crawler/1.0 (+https://example.com/bot)').kind).toBe('bot')
  })
})

describe('agentOf: cache', () => {
  test('the same user agent gives the same frozen result', () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0'
    const first = agentOf(ua)
    expect(agentOf(ua)).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
  })

  test('stays right past its bound', () => {
    for (let i = 0; i < 6_000; i++) agentOf(`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${i}.0.0.0 Safari/537.36`)
    expect(agentOf('curl/8.5.0')).toEqual(CLIENT)
    expect(agentOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1.0.0.0 Safari/537.36')).toEqual(
      browser('Chrome', 'Windows'),
    )
  })

  test('overlong user agents are read as their first 500 characters', () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 '
    expect(agentOf(ua + 'x'.repeat(10_000))).toEqual(browser('Chrome', 'Windows'))
  })
})
