/**
 * Visits, sources, devices and locations against a plain recount: a seeded set of events with
 * gaps of 29, 30 and 31 minutes, ties, anonymous events, bots, every channel rule and each
 * property is posted in shuffled batches with repeats; every figure of /stats, /stats/timeseries
 * and /stats/breakdown is compared with what this file counts from the events it sent, before and
 * after `bun run rollups:rebuild`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BREAKDOWN_PROPERTIES } from '../lib/visit-properties'
import { rebuildFromCli, startStack, uniqueName, type Stack } from './support'
import { halfUp, nextDate, rangeOf, recountVisits, seededRandom, visitorEvents } from './kit/oracle'

let stack: Stack
const site = uniqueName('visits')

const rng = seededRandom(20251114)
const { random, pick } = rng

/** Where a visit came from, with the source and channel the README's rules give it. */
const ORIGINS: { fields: Record<string, string>; path?: string; source: string; channel: string; referrer?: string }[] = [
  { fields: {}, source: 'Direct / None', channel: 'Direct' },
  { fields: { referrer: '' }, source: 'Direct / None', channel: 'Direct' },
  { fields: { referrer: 'https://www.google.com/search?q=shoes#top' }, source: 'Google', channel: 'Organic Search', referrer: 'https://www.google.com/search' },
  { fields: { referrer: 'https://www.google.co.uk/' }, source: 'Google', channel: 'Organic Search', referrer: 'https://www.google.co.uk/' },
  { fields: { utm_source: 'google', utm_medium: 'cpc' }, source: 'google', channel: 'Paid Search' },
  {
    fields: { referrer: 'https://l.facebook.com/l.php?u=x', utm_medium: 'paid_social' },
    source: 'Facebook',
    channel: 'Paid Social',
    referrer: 'https://l.facebook.com/l.php',
  },
  {
    fields: { referrer: 'https://news.ycombinator.com/item?id=1' },
    source: 'Hacker News',
    channel: 'Organic Social',
    referrer: 'https://news.ycombinator.com/item',
  },
  { fields: { utm_medium: 'organic' }, source: 'Direct / None', channel: 'Organic Search' },
  { fields: { utm_medium: 'Social' }, source: 'Direct / None', channel: 'Organic Social' },
  { fields: { utm_source: 'weekly-newsletter', utm_medium: 'email' }, source: 'weekly-newsletter', channel: 'Email' },
  { fields: { utm_source: 'partner', utm_medium: 'affiliate' }, source: 'partner', channel: 'Affiliates' },
  { fields: { utm_source: 'adnet', utm_medium: 'banner' }, source: 'adnet', channel: 'Display' },
  { fields: { utm_source: 'adnet', utm_medium: 'ppc' }, source: 'adnet', channel: 'Paid Other' },
  { fields: { referrer: 'https://Blog.Example.org/post?id=2' }, source: 'blog.example.org', channel: 'Referral', referrer: 'https://blog.example.org/post' },
  { fields: { utm_medium: 'link' }, source: 'Direct / None', channel: 'Referral' },
  { fields: { utm_source: 'x', utm_medium: 'weird' }, source: 'x', channel: '(unassigned)' },
  { fields: {}, path: '?utm_source=Twitter&utm_medium=social&utm_campaign=spring', source: 'Twitter', channel: 'Organic Social' },
  {
    fields: { referrer: 'https://www.bing.com/search', utm_campaign: 'c1', utm_content: 'ad', utm_term: 'shoes' },
    source: 'Bing',
    channel: 'Organic Search',
    referrer: 'https://www.bing.com/search',
  },
]

/** User agents with the browser, OS and device type they name; bots are dropped. */
const AGENTS = [
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    browser: 'Chrome',
    os: 'Windows',
    type: null,
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    browser: 'Safari',
    os: 'iOS',
    type: 'Mobile',
  },
  { ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0', browser: 'Firefox', os: 'macOS', type: null },
  { ua: 'curl/8.5.0', browser: null, os: null, type: null },
  { ua: '', browser: null, os: null, type: null },
  { ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', bot: true, browser: null, os: null, type: null },
] as const

const WIDTHS = [undefined, 375, 575, 576, 991, 992, 1439, 1440, 1920]
const widthDevice = (width: number) => (width < 576 ? 'Mobile' : width < 992 ? 'Tablet' : width < 1440 ? 'Laptop' : 'Desktop')
const PLACES = [
  { fields: { country: 'fr' }, country: 'FR' },
  { fields: { ip: '8.8.8.8' }, country: 'US' },
  { fields: { ip: '10.1.2.3' }, country: null },
  { fields: {}, country: null }, // the test posts from loopback
]
const PATHS = ['/', '/pricing', '/blog/a', '/blog/b', '/signup']
const GAPS_MINUTES = [0, 1, 5, 29, 30, 31, 45, 120, 600]
// Across the end of October (visitor counts over two months) and of daylight saving time in New York (2 November).
const START = Date.parse('2025-10-30T20:00:00Z')

interface Sent {
  body: Record<string, unknown>
  bot: boolean
  visitor: string
  at: number
  eventId: string
  view: boolean
  page: string
  props: Record<string, string | null>
}

function generate(): Sent[] {
  const sent: Sent[] = []
  const add = (userId: string | null, at: number) => {
    const origin = pick(ORIGINS)
    const agent = pick(AGENTS)
    const width = pick(WIDTHS)
    const place = pick(PLACES)
    const view = random() < 0.7
    const page = pick(PATHS)
    const eventId = `e-${Math.floor(random() * 1e9).toString(36)}-${sent.length}`
    const body: Record<string, unknown> = {
      site_id: site,
      event_type: view ? 'page_view' : 'click',
      path: page + (origin.path ?? ''),
      timestamp: new Date(at).toISOString(),
      event_id: eventId,
      ...(userId === null ? {} : { user_id: userId }),
      ...origin.fields,
      ...place.fields,
      ...(width === undefined ? {} : { screen_width: width }),
      ...(agent.ua === '' ? {} : { user_agent: agent.ua }),
    }
    const tags = new URLSearchParams(origin.path?.slice(1) ?? '')
    const tag = (name: string) => origin.fields[name] || tags.get(name) || null
    sent.push({
      body,
      bot: 'bot' in agent,
      visitor: userId ?? `anonymous ${eventId}`,
      at,
      eventId,
      view,
      page,
      props: {
        source: origin.source,
        channel: origin.channel,
        referrer: origin.referrer ?? null,
        utm_source: tag('utm_source'),
        utm_medium: tag('utm_medium'),
        utm_campaign: tag('utm_campaign'),
        utm_content: tag('utm_content'),
        utm_term: tag('utm_term'),
        browser: agent.browser,
        os: agent.os,
        device: width === undefined ? agent.type : widthDevice(width),
        country: place.country,
      },
    })
  }
  visitorEvents(
    rng,
    START,
    { users: 25, startMinutes: 36 * 60, minEvents: 3, moreEvents: 15, gapsMinutes: GAPS_MINUTES, anonymous: 60, anonymousMinutes: 48 * 60 },
    add,
  )
  return sent
}

const sent = generate()

interface Visit {
  visitor: string
  start: number
  end: number
  events: number
  views: number
  entry_page: string
  exit_page: string
  props: Record<string, string | null>
}

/** The oracle: visits of the stored events, recounted plainly. */
const visits: Visit[] = recountVisits(sent.filter((event) => !event.bot)).map(({ visitor, start, end, events }) => ({
  visitor,
  start,
  end,
  events: events.length,
  views: events.filter((event) => event.view).length,
  entry_page: events[0]!.page,
  exit_page: events.at(-1)!.page,
  props: events[0]!.props,
}))

function figures(list: Visit[]) {
  if (list.length === 0) return { visitors: 0, visits: 0, bounce_rate: 0, visit_duration: 0, views_per_visit: 0 }
  const views = list.reduce((sum, v) => sum + v.views, 0)
  return {
    visitors: new Set(list.map((v) => v.visitor)).size,
    visits: list.length,
    bounce_rate: halfUp(100 * list.filter((v) => v.events === 1).length, list.length),
    visit_duration: halfUp(
      list.reduce((sum, v) => sum + (v.end - v.start), 0),
      1000 * list.length,
    ),
    views_per_visit: halfUp(100 * views, list.length) / 100,
  }
}

const visitsIn = (start: number, end: number) => visits.filter((v) => v.start >= start && v.start < end)

function breakdown(property: string, start: number, end: number) {
  if (property === 'page') {
    const views = sent.filter((event) => !event.bot && event.view && event.at >= start && event.at < end)
    return [...Map.groupBy(views, (event) => event.page)]
      .map(([value, list]) => ({ value, visitors: new Set(list.map((event) => event.visitor)).size, views: list.length }))
      .sort((a, b) => b.visitors - a.visitors || (a.value < b.value ? -1 : 1))
  }
  const valueOf = (visit: Visit) => (property === 'entry_page' ? visit.entry_page : property === 'exit_page' ? visit.exit_page : visit.props[property]!)
  const list = visitsIn(start, end).filter((visit) => !property.startsWith('utm_') || valueOf(visit) !== null)
  return [...Map.groupBy(list, (visit) => valueOf(visit) ?? '(not set)')]
    .map(([value, group]) => {
      const f = figures(group)
      return {
        value,
        visitors: f.visitors,
        visits: f.visits,
        views: group.reduce((sum, v) => sum + v.views, 0),
        bounce_rate: f.bounce_rate,
        visit_duration: f.visit_duration,
      }
    })
    .sort((a, b) => b.visitors - a.visitors || (a.value < b.value ? -1 : 1))
}

const PROPERTIES = BREAKDOWN_PROPERTIES
const RANGES: [string, string][] = [
  ['2025-10-30', '2025-10-30'],
  ['2025-10-31', '2025-10-31'],
  ['2025-11-01', '2025-11-01'],
  ['2025-10-30', '2025-10-31'],
  ['2025-10-30', '2025-11-02'],
]
const ZONES = ['UTC', 'America/New_York']

async function getJson(path: string) {
  const response = await stack.get(path)
  const body = (await response.json()) as Record<string, unknown>
  expect(response.status, JSON.stringify(body)).toBe(200)
  return body
}

/** Every figure of every report, against the recount. */
async function compareAll() {
  for (const tz of ZONES) {
    for (const [from, to] of RANGES) {
      const [start, end] = rangeOf(from, to, tz)
      const stats = await getJson(`/stats?site_id=${site}&from=${from}&to=${to}&tz=${tz}`)
      const { visitors, visits: count, bounce_rate, visit_duration, views_per_visit } = stats as Record<string, number>
      expect({ tz, from, to, visitors, visits: count, bounce_rate, visit_duration, views_per_visit }).toEqual({
        tz,
        from,
        to,
        ...figures(visitsIn(start, end)),
      })
      for (const property of PROPERTIES) {
        const answer = await getJson(`/stats/breakdown?site_id=${site}&property=${property}&from=${from}&to=${to}&tz=${tz}&limit=1000`)
        expect({ property, results: answer.results }).toEqual({ property, results: breakdown(property, start, end) })
      }
    }
    for (const interval of ['hour', 'day']) {
      const [from, to] = interval === 'hour' ? ['2025-10-31', '2025-11-01'] : ['2025-10-30', '2025-11-02']
      const series = await getJson(`/stats/timeseries?site_id=${site}&from=${from}&to=${to}&tz=${tz}&interval=${interval}`)
      // Hours are instants an hour apart; days run from local midnight to local midnight (23 or 25 hours at a change).
      const bounds: [number, number][] = []
      if (interval === 'hour') for (let [at, end] = rangeOf(from, to, tz); at < end; at += 3_600_000) bounds.push([at, at + 3_600_000])
      else for (let date = from; date <= to; date = nextDate(date)) bounds.push(rangeOf(date, date, tz))
      const expected = bounds.map(([at, end]) => {
        const f = figures(visitsIn(at, end))
        return { start: new Date(at).toISOString(), visitors: f.visitors, visits: f.visits }
      })
      const buckets = (series.buckets as { start: string; visitors: number; visits: number }[]).map(({ start, visitors, visits }) => ({
        start,
        visitors,
        visits,
      }))
      expect(buckets).toEqual(expected)
    }
  }
}

beforeAll(async () => {
  stack = await startStack('visits_oracle')
  // Shuffled batches, then a fifth of the events again (a client retrying).
  const bodies = sent.map((event) => event.body).sort(() => random() - 0.5)
  const repeats = Array.from({ length: Math.floor(bodies.length / 5) }, () => pick(bodies))
  const all = [...bodies, ...repeats]
  const jobIds: string[] = []
  for (let i = 0; i < all.length;) {
    const size = 1 + Math.floor(random() * 60)
    const response = await stack.post('/events', { events: all.slice(i, i + size) })
    const answer = (await response.json()) as { jobId?: string; results: { status: string }[] }
    expect(response.status).toBe(202)
    expect(answer.results.every((result) => result.status !== 'refused')).toBe(true)
    if (answer.jobId) jobIds.push(answer.jobId)
    i += size
  }
  await stack.jobs.wait(jobIds)
})
afterAll(() => stack?.close())

describe('visits, sources, devices and locations', () => {
  test('the generated events cover what the definitions distinguish', () => {
    const channels = new Set(visits.map((visit) => visit.props.channel))
    expect(channels.size).toBeGreaterThanOrEqual(10)
    expect(sent.some((event) => event.bot)).toBe(true)
    expect(visits.some((visit) => visit.events === 1)).toBe(true)
    expect(visits.some((visit) => visit.events > 3)).toBe(true)
  })

  test('bots are not stored and are counted in the ledger under reason bot', async () => {
    await stack.flush()
    const ledger = await getJson(`/ingest/ledger?site_id=${site}`)
    const [row] = ledger.sites as { written: number; refused_by_reason: { reason: string; count: number }[] }[]
    expect(row!.written).toBe(sent.filter((event) => !event.bot).length)
    expect(row!.refused_by_reason.find((reason) => reason.reason === 'bot')?.count).toBeGreaterThanOrEqual(sent.filter((event) => event.bot).length)
  })

  test('every figure of /stats, /stats/timeseries and /stats/breakdown equals a recount of the events', async () => {
    await compareAll()
  })

  test('bun run rollups:rebuild gives the same answers', async () => {
    await rebuildFromCli(stack, site)
    await compareAll()
  })
})
