/** The visit fields of POST /event and /events: refused when bad, resolved when good, bots dropped. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { countEvents, startStack, type Stack } from '../../tests/support'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('visit_fields', { countryHeader: 'cf-ipcountry' })
})
afterAll(() => stack.close())

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const valid = { site_id: 'fields-site', event_type: 'page_view', path: '/home', user_id: 'u1', timestamp: '2025-11-14T10:30:00Z' }

describe('bad visit fields are refused with a sentence naming the field, and store nothing', () => {
  test.each([
    [{ referrer: 'not a url' }, 'referrer must be an absolute URL'],
    [{ referrer: '/relative/path' }, 'referrer must be an absolute URL'],
    [{ referrer: 'mailto:someone@example.com' }, 'referrer must be an absolute URL'],
    [{ referrer: `https://example.com/${'a'.repeat(2048)}` }, 'referrer must be at most 2048 characters'],
    [{ referrer: 7 }, 'referrer must be a string'],
    [{ utm_source: 'x'.repeat(257) }, 'utm_source must be at most 256 characters'],
    [{ utm_medium: 1 }, 'utm_medium must be a string'],
    [{ utm_campaign: 'a\u0000b' }, 'utm_campaign must not contain NUL characters or unpaired surrogates'],
    [{ utm_content: '\ud800' }, 'utm_content must not contain NUL characters or unpaired surrogates'],
    [{ utm_term: null }, 'utm_term must be a string'],
    [{ screen_width: 0 }, 'screen_width must be a whole number of CSS pixels from 1 to 100000'],
    [{ screen_width: 100_001 }, 'screen_width must be a whole number of CSS pixels from 1 to 100000'],
    [{ screen_width: 1.5 }, 'screen_width must be a whole number of CSS pixels from 1 to 100000'],
    [{ screen_width: '1024' }, 'screen_width must be a number'],
    [{ user_agent: 'x'.repeat(1025) }, 'user_agent must be at most 1024 characters'],
    [{ ip: '999.1.1.1' }, 'ip must be an IPv4 or IPv6 address'],
    [{ ip: 'localhost' }, 'ip must be an IPv4 or IPv6 address'],
    [{ ip: 'fe80::1%a-b' }, 'ip must be an IPv4 or IPv6 address'],
    [{ path: `/${'é'.repeat(1024)}` }, 'path must be at most 2048 bytes in UTF-8, without NUL characters or unpaired surrogates'],
    [{ country: 'ZZ' }, 'country must be an ISO 3166-1 alpha-2 country code such as US'],
    [{ country: 'USA' }, 'country must be an ISO 3166-1 alpha-2 country code such as US'],
  ])('%p', async (fields, detail) => {
    const site = `bad-${Math.random().toString(36).slice(2)}`
    const single = await stack.post('/event', { ...valid, site_id: site, ...fields })
    expect(single.status).toBe(400)
    expect(await single.json()).toEqual({ error: 'Invalid payload', details: [detail] })
    const batch = await stack.post('/events', { events: [{ ...valid, site_id: site, ...fields }] })
    expect(batch.status).toBe(400)
    expect(((await batch.json()) as { results: unknown[] }).results).toEqual([{ index: 0, status: 'refused', errors: [detail] }])
    await stack.flush()
    expect(await countEvents(stack.database, site)).toBe(0)
  })
})

async function stored(site: string) {
  const [row] = await stack.database.sql`
    select path, referrer, source, channel, utm_source, utm_medium, utm_campaign, utm_content, utm_term, browser, os, device, country
      from events where site_id = ${site}`
  return row
}

async function postAndWait(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await stack.post('/event', body, headers)
  expect(response.status).toBe(202)
  await stack.jobs.wait([((await response.json()) as { jobId: string }).jobId])
}

describe('visit fields are resolved before the event is queued', () => {
  test('tags in the path fill those not sent; pages drop their query string; the referrer its query', async () => {
    await postAndWait({
      ...valid,
      site_id: 'resolved-1',
      path: '/landing?utm_source=news&utm_medium=email&utm_campaign=launch#top',
      utm_campaign: 'sent',
      referrer: 'https://www.Example.com/a/b?secret=1',
      screen_width: 390,
      user_agent: CHROME,
      ip: '8.8.8.8',
    })
    expect(await stored('resolved-1')).toEqual({
      path: '/landing',
      referrer: 'https://www.example.com/a/b',
      source: 'news',
      channel: 'Email',
      utm_source: 'news',
      utm_medium: 'email',
      utm_campaign: 'sent',
      utm_content: null,
      utm_term: null,
      browser: 'Chrome',
      os: 'Windows',
      device: 'Mobile',
      country: 'US',
    })
  })

  test('country: the field, else the COUNTRY_HEADER header, else the address; the request header is the default user agent', async () => {
    await postAndWait({ ...valid, site_id: 'country-field', country: 'de', ip: '8.8.8.8' }, { 'cf-ipcountry': 'FR' })
    await postAndWait({ ...valid, site_id: 'country-header', ip: '8.8.8.8' }, { 'cf-ipcountry': 'fr', 'user-agent': CHROME })
    await postAndWait({ ...valid, site_id: 'country-unknown-header' }, { 'cf-ipcountry': 'XX' })
    expect((await stored('country-field'))!.country).toBe('DE')
    expect(await stored('country-header')).toMatchObject({ country: 'FR', browser: 'Chrome', os: 'Windows' })
    // Loopback has no country; the test client's User-Agent (Bun) is an HTTP client: kept, no browser.
    expect(await stored('country-unknown-header')).toMatchObject({ country: null, browser: null, os: null, source: 'Direct / None', channel: 'Direct' })
  })

  test('the original curl post, with no visit field and curl as agent, is stored as before', async () => {
    await postAndWait(
      { site_id: 'curl-site', event_type: 'page_view', path: '/home', user_id: 'user-001', timestamp: '2025-11-14T12:00:00Z' },
      { 'user-agent': 'curl/8.5.0' },
    )
    expect(await stored('curl-site')).toMatchObject({ path: '/home', browser: null, os: null, device: null, country: null, source: 'Direct / None' })
  })
})

describe('bots', () => {
  const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

  test('an event from a bot is answered 202 dropped, not stored, and counted in the ledger under bot', async () => {
    // The ledger keeps refusals per site once the site has had an event (before that, under '').
    await postAndWait({ ...valid, site_id: 'bot-site', event_id: 'human', user_agent: CHROME })
    const response = await stack.post('/event', { ...valid, site_id: 'bot-site', event_id: 'b-1' }, { 'user-agent': GOOGLEBOT })
    expect(response.status).toBe(202)
    expect(await response.json()).toEqual({ message: 'Event dropped', eventId: 'b-1', dropped: 'bot' })
    const viaField = await stack.post('/event', {
      ...valid,
      site_id: 'bot-site',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36',
    })
    expect(((await viaField.json()) as { dropped?: string }).dropped).toBe('bot')
    await stack.flush()
    expect(await countEvents(stack.database, 'bot-site')).toBe(1)
    const ledger = (await (await stack.get('/ingest/ledger?site_id=bot-site')).json()) as { sites: { refused_by_reason: unknown[] }[] }
    expect(ledger.sites[0]!.refused_by_reason).toEqual([{ reason: 'bot', count: 2 }])
  })

  test('in a batch, bots are dropped item by item; a batch of bots only queues nothing', async () => {
    const response = await stack.post('/events', {
      events: [
        { ...valid, site_id: 'bot-batch', event_id: 'k-1', user_agent: CHROME },
        { ...valid, site_id: 'bot-batch', event_id: 'k-2', user_agent: GOOGLEBOT },
        { ...valid, site_id: 'bot-batch', event_id: 'k-3', screen_width: -1 },
      ],
    })
    expect(response.status).toBe(202)
    const body = (await response.json()) as { jobId: string; accepted: number; refused: number; dropped: number; results: unknown[] }
    expect(body).toMatchObject({ accepted: 1, refused: 1, dropped: 1 })
    expect(body.results[1]).toEqual({ index: 1, status: 'dropped', eventId: 'k-2', dropped: 'bot' })
    await stack.jobs.wait([body.jobId])
    expect(await countEvents(stack.database, 'bot-batch')).toBe(1)

    const onlyBots = await stack.post('/events', { events: [{ ...valid, site_id: 'bot-batch', user_agent: GOOGLEBOT }] })
    expect(onlyBots.status).toBe(202)
    const answer = (await onlyBots.json()) as Record<string, unknown>
    expect(answer).toMatchObject({ accepted: 0, refused: 0, dropped: 1 })
    expect(answer.jobId).toBeUndefined()
  })
})
