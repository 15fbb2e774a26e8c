/**
 * Goals and custom properties against a plain recount: a seeded set of events with props, visits
 * of several events, anonymous events and paths a page pattern must and must not match is posted
 * in shuffled batches with repeats; goals (event types, pages, wildcards) are added after the
 * events are stored, so they count retroactively; every goal and property breakdown is compared
 * with what this file counts, in several zones and ranges, before and after a rebuild and after
 * one more goal is added. Two funnels (one with a goal twice) are compared with a recount that tries
 * every way a visit's events can take the steps.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rebuildFromCli, startStack, uniqueName, type Stack } from './support'
import { halfUp, rangeOf, recountVisits, seededRandom, visitorEvents } from './kit/oracle'

let stack: Stack
const site = uniqueName('conversions')
const rng = seededRandom(20251201)
const { random, pick } = rng

const TYPES = ['page_view', 'page_view', 'page_view', 'signup', 'purchase', 'click']
// '/a_b' and '/a%b' must match only themselves: _ and % are literal in page patterns.
const PATHS = ['/', '/pricing', '/blog/a', '/blog/b/c', '/blog', '/thanks', '/a_b', '/aXb', '/a%b', '/checkout/done']
const PLANS = ['free', 'pro', 'team', 'Pro']
const GAPS_MINUTES = [0, 1, 4, 29, 30, 31, 90, 400]
const START = Date.parse('2025-11-30T18:00:00Z')

interface Sent {
  body: Record<string, unknown>
  visitor: string
  at: number
  eventId: string
  eventType: string
  path: string
  props: Record<string, string>
}

function generate(): Sent[] {
  const sent: Sent[] = []
  const add = (userId: string | null, at: number, fixed?: { eventType: string; path: string; eventId: string }) => {
    const eventType = fixed?.eventType ?? pick(TYPES)
    const path = fixed?.path ?? pick(PATHS)
    const eventId = fixed?.eventId ?? `c-${Math.floor(random() * 1e9).toString(36)}-${sent.length}`
    const props: Record<string, string | number | boolean> = {}
    if (random() < 0.6) props.plan = pick(PLANS)
    if (random() < 0.4) props.seats = pick([1, 2, 10, 2.5])
    if (random() < 0.3) props.trial = random() < 0.5
    if (random() < 0.1) props['ab.test-variant_2'] = pick(['A', 'B'])
    sent.push({
      body: {
        site_id: site,
        event_type: eventType,
        path: random() < 0.2 ? `${path}?utm_source=x#frag` : path,
        timestamp: new Date(at).toISOString(),
        event_id: eventId,
        ...(userId === null ? {} : { user_id: userId }),
        ...(Object.keys(props).length > 0 || random() < 0.5 ? { props } : {}),
      },
      visitor: userId ?? `anonymous ${eventId}`,
      at,
      eventId,
      eventType,
      path,
      props: Object.fromEntries(Object.entries(props).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])),
    })
  }
  visitorEvents(
    rng,
    START,
    { users: 30, startMinutes: 30 * 60, minEvents: 2, moreEvents: 14, gapsMinutes: GAPS_MINUTES, anonymous: 40, anonymousMinutes: 40 * 60 },
    add,
  )
  // Two steps at one instant, the later step first in event-id order: either order takes them.
  const instant = START + 3 * 3_600_000
  add('user-tie', instant, { eventType: 'signup', path: '/join', eventId: 'tie-1' })
  add('user-tie', instant, { eventType: 'page_view', path: '/blog/a', eventId: 'tie-2' })
  add('user-tie', instant + 60_000, { eventType: 'purchase', path: '/pay', eventId: 'tie-3' })
  return sent
}

const sent = generate()
const visits = recountVisits(sent)

interface GoalSpec {
  name?: string
  event_type?: string
  page?: string
}
/** A page pattern as the README defines it: * any characters, everything else literal. */
const patternOf = (page: string) =>
  new RegExp(
    `^${page
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
const matches = (goal: GoalSpec, event: Sent) =>
  goal.event_type !== undefined ? event.eventType === goal.event_type : event.eventType === 'page_view' && patternOf(goal.page!).test(event.path)
const nameOf = (goal: GoalSpec) => goal.name ?? goal.event_type ?? goal.page!

const byValue = <T extends { value: string; visitors: number }>(rows: T[]) => rows.sort((a, b) => b.visitors - a.visitors || (a.value < b.value ? -1 : 1))

function goalBreakdown(goals: GoalSpec[], start: number, end: number) {
  const inRange = visits.filter((visit) => visit.start >= start && visit.start < end)
  const all = new Set(inRange.map((visit) => visit.visitor)).size
  return byValue(
    goals.map((goal) => {
      const converted = inRange.filter((visit) => visit.events.some((event) => matches(goal, event)))
      const visitors = new Set(converted.map((visit) => visit.visitor)).size
      return {
        value: nameOf(goal),
        visitors,
        events: inRange.reduce((sum, visit) => sum + visit.events.filter((event) => matches(goal, event)).length, 0),
        conversion_rate: all === 0 ? 0 : halfUp(1000 * visitors, all) / 10,
      }
    }),
  )
}

function propBreakdown(key: string, start: number, end: number) {
  const carrying = sent.filter((event) => event.at >= start && event.at < end && key in event.props)
  return byValue(
    [...Map.groupBy(carrying, (event) => event.props[key]!)].map(([value, list]) => ({
      value,
      visitors: new Set(list.map((event) => event.visitor)).size,
      events: list.length,
    })),
  )
}

/** The custom property keys of the range's events: visitors and events that carry each. */
function propKeysBreakdown(start: number, end: number) {
  const inRange = sent.filter((event) => event.at >= start && event.at < end)
  const keys = [...new Set(inRange.flatMap((event) => Object.keys(event.props)))]
  return byValue(
    keys.map((key) => {
      const carrying = inRange.filter((event) => key in event.props)
      return { value: key, visitors: new Set(carrying.map((event) => event.visitor)).size, events: carrying.length }
    }),
  )
}

const GOALS: GoalSpec[] = [
  { event_type: 'signup' },
  { event_type: 'purchase', name: 'Bought' },
  { page: '/thanks' },
  { page: '/blog/*', name: 'Read the blog' },
  { page: '/a_b' },
  { page: '/a%b' },
  { page: '/*/done' },
  // Nothing matches it: listed with zeros.
  { event_type: 'never-sent' },
]
/** The most steps distinct events of one visit, with non-decreasing times, match in order: every choice tried. */
function stepsReached(events: Sent[], steps: GoalSpec[]): number {
  let best = 0
  const used = new Set<Sent>()
  const walk = (step: number, after: number) => {
    best = Math.max(best, step)
    if (step === steps.length) return
    for (const event of events) {
      if (used.has(event) || event.at < after || !matches(steps[step]!, event)) continue
      used.add(event)
      walk(step + 1, event.at)
      used.delete(event)
    }
  }
  walk(0, -Infinity)
  return best
}

function funnelReport(steps: GoalSpec[], start: number, end: number) {
  const furthest = new Map<string, number>()
  for (const visit of visits.filter((visit) => visit.start >= start && visit.start < end)) {
    furthest.set(visit.visitor, Math.max(furthest.get(visit.visitor) ?? 0, stepsReached(visit.events, steps)))
  }
  const reached = steps.map((_, step) => [...furthest.values()].filter((n) => n > step).length)
  return steps.map((goal, step) => ({
    name: nameOf(goal),
    visitors: reached[step]!,
    conversion_rate: reached[0] === 0 ? 0 : halfUp(1000 * reached[step]!, reached[0]!) / 10,
    dropoff: step === 0 ? 0 : reached[step - 1]! - reached[step]!,
  }))
}

const FUNNELS: { name: string; steps: GoalSpec[] }[] = [
  { name: 'Blog to purchase', steps: [GOALS[3]!, GOALS[0]!, GOALS[1]!] },
  // A goal twice: two blog page views, then a sign-up, then the thank-you page.
  { name: 'Reads twice', steps: [GOALS[3]!, GOALS[3]!, GOALS[0]!, GOALS[2]!] },
]
/** Funnel ids by name, once created. */
const funnelIds = new Map<string, string>()

const LATE_GOAL: GoalSpec = { page: '/blog*', name: 'Blog, index too' }
const KEYS = ['plan', 'seats', 'trial', 'ab.test-variant_2', 'missing']
const RANGES: [string, string][] = [
  ['2025-11-30', '2025-11-30'],
  ['2025-12-01', '2025-12-01'],
  ['2025-11-30', '2025-12-02'],
  ['2025-11-01', '2025-12-31'],
]
const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata']

async function getJson(path: string) {
  const response = await stack.get(path)
  const body = (await response.json()) as Record<string, unknown>
  expect(response.status, JSON.stringify(body)).toBe(200)
  return body
}

async function compareAll(goals: GoalSpec[]) {
  for (const tz of ZONES) {
    for (const [from, to] of RANGES) {
      const [start, end] = rangeOf(from, to, tz)
      const range = `site_id=${site}&from=${from}&to=${to}&tz=${tz}&limit=1000`
      const answer = await getJson(`/stats/breakdown?${range}&property=goal`)
      expect({ tz, from, to, results: answer.results }).toEqual({ tz, from, to, results: goalBreakdown(goals, start, end) })
      for (const funnel of FUNNELS) {
        const report = await getJson(`/stats/funnel?site_id=${site}&from=${from}&to=${to}&tz=${tz}&funnel_id=${funnelIds.get(funnel.name)}`)
        expect({ tz, from, to, funnel: report.funnel, steps: report.steps }).toEqual({
          tz,
          from,
          to,
          funnel: funnel.name,
          steps: funnelReport(funnel.steps, start, end),
        })
      }
      const keys = await getJson(`/stats/breakdown?${range}&property=props`)
      expect({ tz, from, to, keys: keys.results }).toEqual({ tz, from, to, keys: propKeysBreakdown(start, end) })
      for (const key of KEYS) {
        const props = await getJson(`/stats/breakdown?${range}&property=props:${key}`)
        expect({ tz, from, to, key, results: props.results }).toEqual({ tz, from, to, key, results: propBreakdown(key, start, end) })
      }
    }
  }
  // Paging: the second page of two rows each.
  const [start, end] = rangeOf('2025-11-30', '2025-12-02', 'UTC')
  const paged = await getJson(`/stats/breakdown?site_id=${site}&from=2025-11-30&to=2025-12-02&property=goal&limit=2&page=2`)
  expect(paged.results).toEqual(goalBreakdown(goals, start, end).slice(2, 4))
}

const goalIds = new Map<string, string>()

async function create(path: string, body: unknown): Promise<Record<string, string>> {
  const response = await fetch(`${stack.baseUrl}/sites/${site}/${path}`, {
    method: 'POST',
    headers: { ...stack.adminHeaders, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const created = (await response.json()) as Record<string, string>
  expect(response.status, JSON.stringify(created)).toBe(201)
  return created
}

async function addGoal(goal: GoalSpec) {
  goalIds.set(nameOf(goal), (await create('goals', goal)).goal_id!)
}

beforeAll(async () => {
  stack = await startStack('conversions_oracle')
  const bodies = sent.map((event) => event.body).sort(() => random() - 0.5)
  const all = [...bodies, ...Array.from({ length: Math.floor(bodies.length / 5) }, () => pick(bodies))]
  const jobIds: string[] = []
  for (let i = 0; i < all.length;) {
    const size = 1 + Math.floor(random() * 50)
    const response = await stack.post('/events', { events: all.slice(i, i + size) })
    const answer = (await response.json()) as { jobId?: string; results: { status: string }[] }
    expect(response.status, JSON.stringify(answer)).toBe(202)
    expect(answer.results.every((result) => result.status === 'accepted')).toBe(true)
    jobIds.push(answer.jobId!)
    i += size
  }
  await stack.jobs.wait(jobIds)
  // Only now, with every event stored: goals count what came before them.
  for (const goal of GOALS) await addGoal(goal)
  for (const funnel of FUNNELS) {
    const created = await create('funnels', { name: funnel.name, steps: funnel.steps.map((goal) => goalIds.get(nameOf(goal))) })
    funnelIds.set(funnel.name, created.funnel_id!)
  }
})
afterAll(() => stack?.close())

describe('goals, funnels and custom properties', () => {
  test('the generated events cover what the definitions distinguish', () => {
    const all = [...GOALS, LATE_GOAL]
    // Every goal but the one never sent converts somewhere, some in a visit that starts the day before.
    for (const goal of all.slice(0, -2)) expect(sent.some((event) => matches(goal, event))).toBe(true)
    expect(visits.some((visit) => visit.events.length > 3)).toBe(true)
    expect(
      sent.some((event) => event.path === '/aXb') &&
        !matches(
          { page: '/a_b' },
          sent.find((event) => event.path === '/aXb')!,
        ),
    ).toBe(true)
    expect(visits.some((visit) => new Date(visit.start).getUTCDate() !== new Date(visit.end).getUTCDate())).toBe(true)
    // Funnels: visits that go all the way, visits with steps out of order, and visitors whose steps are spread over visits.
    const [funnel] = FUNNELS
    expect(visits.some((visit) => stepsReached(visit.events, funnel!.steps) === 3)).toBe(true)
    const outOfOrder = (visit: (typeof visits)[number]) =>
      visit.events.some((event) => matches(funnel!.steps[1]!, event)) && stepsReached(visit.events, funnel!.steps) === 0
    expect(visits.some(outOfOrder)).toBe(true)
    const byVisitor = Map.groupBy(visits, (visit) => visit.visitor)
    const spread = [...byVisitor.values()].some(
      (list) =>
        stepsReached(
          list.flatMap((visit) => visit.events),
          funnel!.steps,
        ) > Math.max(...list.map((visit) => stepsReached(visit.events, funnel!.steps))),
    )
    expect(spread).toBe(true)
    // Equal times within a visit, where steps may come in either order.
    expect(visits.some((visit) => new Set(visit.events.map((event) => event.at)).size < visit.events.length)).toBe(true)
  })

  test('every goal, funnel and custom property figure equals a recount, goals counting events stored before them', async () => {
    await compareAll(GOALS)
  })

  test('bun run rollups:rebuild gives the same answers', async () => {
    await rebuildFromCli(stack, site)
    await compareAll(GOALS)
  })

  test('a goal added to a site that already has events reports them at once', async () => {
    await addGoal(LATE_GOAL)
    await compareAll([...GOALS, LATE_GOAL])
  })
})
