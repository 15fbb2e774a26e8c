/**
 * Filters against a plain recount: a seeded set of events with sources, campaigns (one with the
 * characters filters escape), countries, pages, event types, custom properties and goals, posted
 * in shuffled batches; for a table of filters (each operator, each kind of property, escapes,
 * combinations, and one that keeps every visit) every figure of /stats, /stats/timeseries,
 * /stats/breakdown and /stats/funnel is compared with what this file counts over the visits the
 * filters keep, before and after a rebuild, and bad filters are refused with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rebuildFromCli, startStack, uniqueName, type Stack } from './support'
import { halfUp, nextDate, rangeOf, recountVisits, seededRandom, visitorEvents, type RecountedVisit } from './kit/oracle'

let stack: Stack
const site = uniqueName('filters')
const rng = seededRandom(20251202)
const { random, pick } = rng

const TRICKY_CAMPAIGN = 'Brand|Sale;x\\y'
const ORIGINS: { fields: Record<string, string>; source: string; campaign: string | null }[] = [
  { fields: {}, source: 'Direct / None', campaign: null },
  { fields: { referrer: 'https://www.google.com/' }, source: 'Google', campaign: null },
  { fields: { utm_source: 'news', utm_medium: 'email', utm_campaign: 'spring' }, source: 'news', campaign: 'spring' },
  { fields: { utm_source: 'google', utm_medium: 'cpc', utm_campaign: TRICKY_CAMPAIGN }, source: 'google', campaign: TRICKY_CAMPAIGN },
]
const COUNTRIES: { country?: string }[] = [{ country: 'FR' }, { country: 'US' }, {}]
const TYPES = ['page_view', 'page_view', 'page_view', 'signup', 'click']
const PATHS = ['/', '/pricing', '/blog/a', '/blog/b', '/thanks']
const PLANS = ['free', 'pro', 'team']
const GAPS_MINUTES = [0, 2, 10, 29, 31, 120]
const START = Date.parse('2025-11-20T20:00:00Z')

interface Sent {
  body: Record<string, unknown>
  visitor: string
  userId: string | null
  at: number
  eventId: string
  eventType: string
  path: string
  plan: string | undefined
  source: string
  campaign: string | null
  country: string | null
}

function generate(): Sent[] {
  const sent: Sent[] = []
  const add = (userId: string | null, at: number) => {
    const origin = pick(ORIGINS)
    const place = pick(COUNTRIES)
    const eventType = pick(TYPES)
    const path = pick(PATHS)
    const plan = random() < 0.5 ? pick(PLANS) : undefined
    const eventId = `f-${Math.floor(random() * 1e9).toString(36)}-${sent.length}`
    sent.push({
      body: {
        site_id: site,
        event_type: eventType,
        path,
        timestamp: new Date(at).toISOString(),
        event_id: eventId,
        ...(userId === null ? {} : { user_id: userId }),
        ...origin.fields,
        ...place,
        ...(plan === undefined ? {} : { props: { plan } }),
      },
      visitor: userId ?? `anonymous ${eventId}`,
      userId,
      at,
      eventId,
      eventType,
      path,
      plan,
      source: origin.source,
      campaign: origin.campaign,
      country: place.country ?? null,
    })
  }
  visitorEvents(
    rng,
    START,
    { users: 30, startMinutes: 24 * 60, minEvents: 2, moreEvents: 10, gapsMinutes: GAPS_MINUTES, anonymous: 30, anonymousMinutes: 30 * 60 },
    add,
  )
  return sent
}

const sent = generate()
const visits = recountVisits(sent)
type Visit = RecountedVisit<Sent>

const GOALS = [
  { name: 'Signed up', event_type: 'signup' },
  { name: 'Read the blog', page: '/blog/*' },
  { name: 'Thanked', page: '/thanks' },
]
const goalMatches = (goal: (typeof GOALS)[number], event: Sent) =>
  'event_type' in goal
    ? event.eventType === goal.event_type
    : event.eventType === 'page_view' && new RegExp(`^${goal.page.replace('*', '.*')}$`).test(event.path)

// --- the filters, recounted -------------------------------------------------------------------

interface Filter {
  property: string
  operator: '==' | '!=' | '~'
  values: string[]
}

/** The filter expressions as this test reads them back (values unescaped). */
function parse(text: string): Filter[] {
  return text.split(/(?<!\\);/).map((expression) => {
    const [, property, operator, rest] = /^([a-z_:]+)(==|!=|~)(.*)$/.exec(expression)!
    const values = operator === '~' ? [rest!] : rest!.split(/(?<!\\)\|/)
    return { property: property!, operator: operator as Filter['operator'], values: values.map((value) => value.replace(/\\(.)/g, '$1')) }
  })
}

const NOT_SET = '(not set)'
const visitValue = (visit: Visit, property: string): string | null => {
  const first = visit.events[0]!
  if (property === 'source') return first.source
  if (property === 'utm_campaign') return first.campaign
  if (property === 'country') return first.country ?? NOT_SET
  if (property === 'entry_page') return first.path
  if (property === 'exit_page') return visit.events.at(-1)!.path
  throw new Error(`no visit property ${property} here`)
}
/** The value an event shows for an event property (null: it has none). */
const eventValues = (event: Sent, property: string): (string | null)[] => {
  if (property === 'page') return [event.eventType === 'page_view' ? event.path : null]
  if (property === 'event_type') return [event.eventType]
  if (property === 'props:plan') return [event.plan ?? null]
  if (property === 'goal') return GOALS.filter((goal) => goalMatches(goal, event)).map((goal) => goal.name)
  throw new Error(`no event property ${property} here`)
}
const passes = (value: string | null, filter: Filter, operator: Filter['operator']) =>
  value !== null && (operator === '~' ? value.toLowerCase().includes(filter.values[0]!.toLowerCase()) : filter.values.includes(value))

function kept(visit: Visit, filters: Filter[]): boolean {
  return filters.every((filter) => {
    if (['page', 'event_type', 'goal', 'props:plan'].includes(filter.property)) {
      const some = visit.events.some((event) =>
        eventValues(event, filter.property).some((value) => passes(value, filter, filter.operator === '~' ? '~' : '==')),
      )
      return filter.operator === '!=' ? !some : some
    }
    const match = passes(visitValue(visit, filter.property), filter, filter.operator === '~' ? '~' : '==')
    return filter.operator === '!=' ? !match : match
  })
}

const byCount = <T>(rows: T[], count: (row: T) => number, name: (row: T) => string) =>
  rows.sort((a, b) => count(b) - count(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0))

function figures(list: Visit[]) {
  if (list.length === 0) return { visitors: 0, visits: 0, bounce_rate: 0, visit_duration: 0, views_per_visit: 0 }
  const views = list.reduce((sum, v) => sum + v.events.filter((event) => event.eventType === 'page_view').length, 0)
  return {
    visitors: new Set(list.map((v) => v.visitor)).size,
    visits: list.length,
    bounce_rate: halfUp(100 * list.filter((v) => v.events.length === 1).length, list.length),
    visit_duration: halfUp(
      list.reduce((sum, v) => sum + (v.end - v.start), 0),
      1000 * list.length,
    ),
    views_per_visit: halfUp(100 * views, list.length) / 100,
  }
}

/** Everything the API answers for one range and set of filters, recounted. */
function expected(filters: Filter[], start: number, end: number) {
  const keptVisits = visits.filter((visit) => kept(visit, filters))
  const starting = keptVisits.filter((visit) => visit.start >= start && visit.start < end)
  const rangeEvents = keptVisits.flatMap((visit) => visit.events).filter((event) => event.at >= start && event.at < end)
  const views = rangeEvents.filter((event) => event.eventType === 'page_view')
  const stats = {
    total_views: views.length,
    unique_users: new Set(rangeEvents.flatMap((event) => (event.userId === null ? [] : [event.userId]))).size,
    top_paths: byCount(
      [...Map.groupBy(views, (event) => event.path)].map(([path, list]) => ({ path, views: list.length })),
      (row) => row.views,
      (row) => row.path,
    ).slice(0, 10),
    event_types: byCount(
      [...Map.groupBy(rangeEvents, (event) => event.eventType)].map(([event_type, list]) => ({ event_type, count: list.length })),
      (row) => row.count,
      (row) => row.event_type,
    ),
    ...figures(starting),
  }
  const visitBreakdown = (property: string) =>
    byCount(
      [...Map.groupBy(starting, (visit) => visitValue(visit, property))]
        .filter(([value]) => value !== null)
        .map(([value, group]) => {
          const f = figures(group)
          return {
            value: value!,
            visitors: f.visitors,
            visits: f.visits,
            views: group.reduce((sum, v) => sum + v.events.filter((event) => event.eventType === 'page_view').length, 0),
            bounce_rate: f.bounce_rate,
            visit_duration: f.visit_duration,
          }
        }),
      (row) => row.visitors,
      (row) => row.value,
    )
  const eventBreakdown = (list: Sent[], valueOf: (event: Sent) => string | undefined, countName: 'views' | 'events') =>
    byCount(
      [
        ...Map.groupBy(
          list.filter((event) => valueOf(event) !== undefined),
          (event) => valueOf(event)!,
        ),
      ].map(([value, group]) => ({
        value,
        visitors: new Set(group.map((event) => event.visitor)).size,
        [countName]: group.length,
      })),
      (row) => row.visitors,
      (row) => row.value,
    )
  const all = new Set(starting.map((visit) => visit.visitor)).size
  const goals = byCount(
    GOALS.map((goal) => {
      const visitors = new Set(starting.filter((visit) => visit.events.some((event) => goalMatches(goal, event))).map((visit) => visit.visitor)).size
      return {
        value: goal.name,
        visitors,
        events: starting.reduce((sum, visit) => sum + visit.events.filter((event) => goalMatches(goal, event)).length, 0),
        conversion_rate: all === 0 ? 0 : halfUp(1000 * visitors, all) / 10,
      }
    }),
    (row) => row.visitors,
    (row) => row.value,
  )
  // Funnel: Read the blog, then Signed up. No event matches both, so going through the events of
  // each instant (which may take their steps in either order) as early as possible is exact.
  const furthest = new Map<string, number>()
  for (const visit of starting) {
    let step = 0
    for (const group of Map.groupBy(visit.events, (event) => event.at).values()) {
      if (step === 0 && group.some((event) => goalMatches(GOALS[1]!, event))) step = 1
      if (step === 1 && group.some((event) => goalMatches(GOALS[0]!, event))) step = 2
    }
    furthest.set(visit.visitor, Math.max(furthest.get(visit.visitor) ?? 0, step))
  }
  const reached = [1, 2].map((step) => [...furthest.values()].filter((n) => n >= step).length)
  const funnel = [
    { name: 'Read the blog', visitors: reached[0]!, conversion_rate: reached[0] === 0 ? 0 : 100, dropoff: 0 },
    {
      name: 'Signed up',
      visitors: reached[1]!,
      conversion_rate: reached[0] === 0 ? 0 : halfUp(1000 * reached[1]!, reached[0]!) / 10,
      dropoff: reached[0]! - reached[1]!,
    },
  ]
  return {
    stats,
    breakdowns: {
      source: visitBreakdown('source'),
      country: visitBreakdown('country'),
      utm_campaign: visitBreakdown('utm_campaign'),
      entry_page: visitBreakdown('entry_page'),
      page: eventBreakdown(views, (event) => event.path, 'views'),
      'props:plan': eventBreakdown(rangeEvents, (event) => event.plan, 'events'),
      goal: goals,
    } as Record<string, unknown[]>,
    funnel,
  }
}

const FILTERS = [
  'source==Google',
  'source==Google|news',
  'source!=Direct / None',
  'country==(not set)',
  'country!=FR|US',
  'utm_campaign~sale',
  'utm_campaign==Brand\\|Sale\\;x\\\\y',
  'utm_campaign!=spring',
  'entry_page==/pricing',
  'exit_page~BLOG',
  'page==/pricing',
  'page!=/pricing',
  'page~blog',
  'event_type==signup',
  'event_type!=click',
  'goal==Signed up',
  'goal!=Read the blog',
  'goal~THANK',
  'props:plan==pro|team',
  'props:plan!=free',
  'props:plan~PR',
  'source==Google;page==/pricing',
  'country!=FR;goal==Signed up',
  'event_type==signup;props:plan==pro;source!=news',
  // Keeps every visit: the unfiltered answer.
  'source!=nowhere',
]
const RANGES: [string, string][] = [
  ['2025-11-21', '2025-11-21'],
  ['2025-11-20', '2025-11-22'],
]
const ZONES = ['UTC', 'Asia/Kolkata']

async function getJson(path: string) {
  const response = await stack.get(path)
  const body = (await response.json()) as Record<string, unknown>
  expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(200)
  return body
}

let funnelId = ''

beforeAll(async () => {
  stack = await startStack('filters_oracle')
  const bodies = sent.map((event) => event.body).sort(() => random() - 0.5)
  const jobIds: string[] = []
  for (let i = 0; i < bodies.length;) {
    const size = 1 + Math.floor(random() * 40)
    const response = await stack.post('/events', { events: bodies.slice(i, i + size) })
    const answer = (await response.json()) as { jobId: string; results: { status: string }[] }
    expect(response.status, JSON.stringify(answer)).toBe(202)
    expect(answer.results.every((result) => result.status === 'accepted')).toBe(true)
    jobIds.push(answer.jobId)
    i += size
  }
  await stack.jobs.wait(jobIds)
  const ids: string[] = []
  for (const goal of GOALS) {
    const response = await fetch(`${stack.baseUrl}/sites/${site}/goals`, { method: 'POST', headers: stack.adminHeaders, body: JSON.stringify(goal) })
    ids.push(((await response.json()) as { goal_id: string }).goal_id)
  }
  const funnel = await fetch(`${stack.baseUrl}/sites/${site}/funnels`, {
    method: 'POST',
    headers: stack.adminHeaders,
    body: JSON.stringify({ name: 'Blog to sign-up', steps: [ids[1], ids[0]] }),
  })
  funnelId = ((await funnel.json()) as { funnel_id: string }).funnel_id
})
afterAll(() => stack?.close())

/** Every figure of every question, for every filter of the table, against the recount. */
async function compareAll() {
  for (const text of FILTERS) {
    const filters = parse(text)
    const param = `filters=${encodeURIComponent(text)}`
    for (const tz of ZONES) {
      for (const [from, to] of RANGES) {
        const [start, end] = rangeOf(from, to, tz)
        const want = expected(filters, start, end)
        const range = `site_id=${site}&from=${from}&to=${to}&tz=${tz}`
        const { site_id: _, from: __, to: ___, timezone, ...stats } = await getJson(`/stats?${range}&${param}`)
        expect({ text, tz, from, timezone, stats }).toEqual({ text, tz, from, timezone: tz, stats: want.stats })
        for (const [property, rows] of Object.entries(want.breakdowns)) {
          const answer = await getJson(`/stats/breakdown?${range}&property=${property}&limit=1000&${param}`)
          expect({ text, tz, from, property, results: answer.results }).toEqual({ text, tz, from, property, results: rows })
        }
        const funnel = await getJson(`/stats/funnel?${range}&funnel_id=${funnelId}&${param}`)
        expect({ text, tz, from, steps: funnel.steps }).toEqual({ text, tz, from, steps: want.funnel })
      }
    }
    // Daily and hourly buckets.
    for (const [interval, from, to] of [
      ['day', '2025-11-20', '2025-11-22'],
      ['hour', '2025-11-21', '2025-11-21'],
    ] as const) {
      const series = await getJson(`/stats/timeseries?site_id=${site}&from=${from}&to=${to}&interval=${interval}&${param}`)
      const bounds: [number, number][] = []
      if (interval === 'hour') for (let [at, end] = rangeOf(from, to, 'UTC'); at < end; at += 3_600_000) bounds.push([at, at + 3_600_000])
      else for (let date: string = from; date <= to; date = nextDate(date)) bounds.push(rangeOf(date, date, 'UTC'))
      expect({ text, interval, buckets: series.buckets }).toEqual({
        text,
        interval,
        buckets: bounds.map(([at, end]) => {
          const { stats } = expected(filters, at, end)
          return {
            start: new Date(at).toISOString(),
            views: stats.total_views,
            unique_users: stats.unique_users,
            visitors: stats.visitors,
            visits: stats.visits,
          }
        }),
      })
    }
  }
}

describe('filters', () => {
  test('the table reaches both sides of every filter', () => {
    for (const text of FILTERS.slice(0, -1)) {
      const filters = parse(text)
      const keptCount = visits.filter((visit) => kept(visit, filters)).length
      expect({ text, keeps: keptCount > 0, drops: keptCount < visits.length }).toEqual({ text, keeps: true, drops: true })
    }
    expect(visits.filter((visit) => kept(visit, parse(FILTERS.at(-1)!))).length).toBe(visits.length)
  })

  test('every figure of every question equals the recount over the visits the filters keep', async () => {
    await compareAll()
  }, 120_000)

  test('bun run rollups:rebuild gives the same answers', async () => {
    await rebuildFromCli(stack, site)
    await compareAll()
  }, 120_000)

  test('a filter that keeps every visit gives exactly the unfiltered answers', async () => {
    const keepAll = `filters=${encodeURIComponent('source!=nowhere')}`
    const range = `site_id=${site}&from=2025-11-20&to=2025-11-22`
    expect(await getJson(`/stats?${range}&${keepAll}`)).toEqual(await getJson(`/stats?${range}&tz=UTC`))
    for (const property of ['source', 'page', 'exit_page', 'goal', 'props:plan']) {
      expect(await getJson(`/stats/breakdown?${range}&property=${property}&${keepAll}`)).toEqual(
        await getJson(`/stats/breakdown?${range}&property=${property}`),
      )
    }
    expect(await getJson(`/stats/timeseries?${range}&interval=hour&${keepAll}`)).toEqual(await getJson(`/stats/timeseries?${range}&interval=hour`))
  })

  test.each([
    ['', 'filters: empty; leave the parameter out for no filter'],
    ['source', 'filters: "source" has no operator; use property==value, property!=value or property~text'],
    ['colour==red', 'filters: unknown property "colour"; use one of source, channel,'],
    ['source==', 'filters: "source==" has an empty value'],
    ['source==a|', 'filters: "source==a|" has an empty value'],
    ['source==a;;country==FR', 'filters: an empty filter between two ;'],
    ['source~a|b', 'filters: "source~a|b": ~ takes one text; write a | inside it as \\|'],
    ['source==a\\b', 'filters: "source==a\\\\b" has a \\ that escapes nothing'],
    ['goal==Nope', 'filters: "Nope" is not a goal of this site'],
    ['props:==x', 'filters: unknown property "props:"'],
    [Array(11).fill('source==a').join(';'), 'filters: at most 10 filters, got 11'],
  ])('%p is refused with the reason', async (text, reason) => {
    for (const path of ['/stats', '/stats/timeseries', '/stats/breakdown', '/stats/funnel']) {
      const extra = path === '/stats/breakdown' ? '&property=source' : path === '/stats/funnel' ? `&funnel_id=${funnelId}` : ''
      const response = await stack.get(`${path}?site_id=${site}&from=2025-11-20&to=2025-11-22${extra}&filters=${encodeURIComponent(text)}`)
      const answer = (await response.json()) as { error: string }
      expect({ path, status: response.status }).toEqual({ path, status: 400 })
      expect(answer.error).toStartWith(reason)
    }
  })
})
