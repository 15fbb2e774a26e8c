/** Goals and funnels: admin-only CRUD with clear refusals, and the stats routes' names for them. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startStack, type Stack } from '../../tests/support'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('goals')
})
afterAll(() => stack.close())

const goalsUrl = (site: string) => `${stack.baseUrl}/sites/${encodeURIComponent(site)}/goals`
const post = (site: string, body: unknown, headers: Record<string, string> = stack.adminHeaders) =>
  fetch(goalsUrl(site), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('goals', () => {
  test('are added with a default name, listed oldest first, and deleted', async () => {
    const site = 'goals-crud'
    const signup = await post(site, { event_type: 'signup' })
    expect(signup.status).toBe(201)
    const first = (await signup.json()) as Record<string, unknown>
    expect(first).toEqual({
      goal_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'signup',
      event_type: 'signup',
      page: null,
      created_at: expect.any(String),
    })
    const blog = (await (await post(site, { page: '/blog/*', name: 'Read the blog' })).json()) as Record<string, unknown>
    expect(blog).toMatchObject({ name: 'Read the blog', event_type: null, page: '/blog/*' })
    const listed = await fetch(goalsUrl(site), { headers: stack.adminHeaders })
    expect(((await listed.json()) as { goals: unknown[] }).goals).toEqual([first, blog])
    // Another site's goals are its own.
    expect(await (await fetch(goalsUrl('goals-other'), { headers: stack.adminHeaders })).json()).toEqual({ goals: [] })
    const gone = await fetch(`${goalsUrl(site)}/${first.goal_id}`, { method: 'DELETE', headers: stack.adminHeaders })
    expect(gone.status).toBe(204)
    const again = await fetch(`${goalsUrl(site)}/${first.goal_id}`, { method: 'DELETE', headers: stack.adminHeaders })
    expect([again.status, await again.json()]).toEqual([404, { error: 'this site has no such goal' }])
    expect(((await (await fetch(goalsUrl(site), { headers: stack.adminHeaders })).json()) as { goals: unknown[] }).goals).toEqual([blog])
  })

  test('a duplicate is 409, naming what it clashes with', async () => {
    const site = 'goals-dup'
    expect((await post(site, { event_type: 'signup' })).status).toBe(201)
    expect((await post(site, { page: '/thanks', name: 'Thanked' })).status).toBe(201)
    for (const [body, error] of [
      [{ event_type: 'signup' }, 'this site already has a goal named "signup"'],
      [{ event_type: 'signup', name: 'Signed up' }, 'goal "signup" already counts event type signup'],
      [{ page: '/thanks' }, 'goal "Thanked" already counts page /thanks'],
      [{ event_type: 'purchase', name: 'Thanked' }, 'this site already has a goal named "Thanked"'],
    ] as const) {
      const response = await post(site, body)
      expect([response.status, await response.json()]).toEqual([409, { error }])
    }
  })

  test.each([
    [{}, 'a goal needs either event_type or page, not both'],
    [{ event_type: 'a', page: '/a' }, 'a goal needs either event_type or page, not both'],
    [{ page: 'thanks' }, 'page must start with /, such as /thanks or /blog/*'],
    [{ page: '/thanks?x=1' }, 'page must be a path without a query string or fragment'],
    [{ page: '/a#b' }, 'page must be a path without a query string or fragment'],
    [{ page: `/${'é'.repeat(1024)}` }, 'page must be a path pattern of at most 2048 bytes, such as /thanks or /blog/*'],
    [{ event_type: '' }, 'event_type must not be empty'],
    [{ event_type: 'x'.repeat(65) }, 'event_type must be at most 64 characters'],
    [{ event_type: 'a', name: 'x'.repeat(121) }, 'name must be at most 120 characters'],
    [{ event_type: 'a', colour: 'red' }, 'colour is not a known field'],
    [[], 'body must be a JSON object'],
  ])('an invalid goal %p is 400 with the reason, and adds nothing', async (body, error) => {
    const response = await post('goals-invalid', body)
    expect(response.status).toBe(400)
    expect(JSON.stringify(await response.json())).toContain(error)
    expect(await (await fetch(goalsUrl('goals-invalid'), { headers: stack.adminHeaders })).json()).toEqual({ goals: [] })
  })

  test('a malformed goal id is 400', async () => {
    const response = await fetch(`${goalsUrl('goals-crud')}/42`, { method: 'DELETE', headers: stack.adminHeaders })
    expect([response.status, await response.json()]).toEqual([
      400,
      { error: 'Invalid payload', details: ['the goal id must be a UUID, as GET /sites/:id/goals lists them'] },
    ])
  })

  test('are changed by admins only: callers without the admin password are refused', async () => {
    // Listing is a read, open like the stats to a loopback caller while no key is set.
    expect((await fetch(goalsUrl('goals-crud'))).status).toBe(200)
    const added = await post('goals-auth', { event_type: 'x' }, { authorization: `Basic ${btoa('admin:wrong')}` })
    expect(added.status).toBe(401)
    expect(await (await fetch(goalsUrl('goals-auth'), { headers: stack.adminHeaders })).json()).toEqual({ goals: [] })
  })
})

describe('funnels', () => {
  const funnelsUrl = (site: string) => `${stack.baseUrl}/sites/${site}/funnels`
  const postFunnel = (site: string, body: unknown) =>
    fetch(funnelsUrl(site), { method: 'POST', headers: { ...stack.adminHeaders, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const goalOf = async (site: string, body: Record<string, string>) => ((await (await post(site, body)).json()) as { goal_id: string }).goal_id

  test('are added from goals in order (one may repeat), listed, reported, and deleted; their goals stay until they go', async () => {
    const site = 'funnels-crud'
    const [blog, signup] = [await goalOf(site, { page: '/blog/*' }), await goalOf(site, { event_type: 'signup' })]
    const created = await postFunnel(site, { name: 'Read then join', steps: [blog, blog, signup.toUpperCase()] })
    expect(created.status).toBe(201)
    const funnel = (await created.json()) as Record<string, unknown>
    expect(funnel).toEqual({
      funnel_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Read then join',
      steps: [
        { goal_id: blog, name: '/blog/*' },
        { goal_id: blog, name: '/blog/*' },
        { goal_id: signup, name: 'signup' },
      ],
      created_at: expect.any(String),
    })
    expect(await (await fetch(funnelsUrl(site), { headers: stack.adminHeaders })).json()).toEqual({ funnels: [funnel] })
    const report = await stack.get(`/stats/funnel?site_id=${site}&date=2025-11-14&funnel_id=${funnel.funnel_id}`)
    expect(await report.json()).toEqual({
      site_id: site,
      from: '2025-11-14',
      to: '2025-11-14',
      timezone: 'UTC',
      funnel_id: funnel.funnel_id,
      funnel: 'Read then join',
      steps: [
        { name: '/blog/*', visitors: 0, conversion_rate: 0, dropoff: 0 },
        { name: '/blog/*', visitors: 0, conversion_rate: 0, dropoff: 0 },
        { name: 'signup', visitors: 0, conversion_rate: 0, dropoff: 0 },
      ],
    })
    // A goal that is a step cannot go while the funnel is there.
    const kept = await fetch(`${goalsUrl(site)}/${signup}`, { method: 'DELETE', headers: stack.adminHeaders })
    expect([kept.status, await kept.json()]).toEqual([409, { error: 'the goal is a step of funnel "Read then join"; delete that funnel first' }])
    expect((await fetch(`${funnelsUrl(site)}/${funnel.funnel_id}`, { method: 'DELETE', headers: stack.adminHeaders })).status).toBe(204)
    expect((await fetch(`${funnelsUrl(site)}/${funnel.funnel_id}`, { method: 'DELETE', headers: stack.adminHeaders })).status).toBe(404)
    expect((await fetch(`${goalsUrl(site)}/${signup}`, { method: 'DELETE', headers: stack.adminHeaders })).status).toBe(204)
    const gone = await stack.get(`/stats/funnel?site_id=${site}&date=2025-11-14&funnel_id=${funnel.funnel_id}`)
    expect([gone.status, await gone.json()]).toEqual([404, { error: 'this site has no such funnel' }])
  })

  test('refusals: a step that is no goal of the site, too few or many steps, a name in use', async () => {
    const site = 'funnels-invalid'
    const goal = await goalOf(site, { event_type: 'a' })
    const elsewhere = await goalOf('funnels-elsewhere', { event_type: 'a' })
    expect((await postFunnel(site, { name: 'Taken', steps: [goal, goal] })).status).toBe(201)
    for (const [body, status, error] of [
      [{ name: 'F', steps: [goal, elsewhere] }, 400, 'steps[1] is not a goal of this site'],
      [{ name: 'F', steps: [goal] }, 400, 'steps must be an array of 2 to 8 goal ids'],
      [{ name: 'F', steps: Array(9).fill(goal) }, 400, 'steps must be an array of 2 to 8 goal ids'],
      [{ name: 'F', steps: [goal, 'signup'] }, 400, 'each step must be a goal id (a UUID, as GET /sites/:id/goals lists them)'],
      [{ steps: [goal, goal] }, 400, 'name is required'],
      [{ name: 'Taken', steps: [goal, goal] }, 409, 'this site already has a funnel named "Taken"'],
    ] as const) {
      const response = await postFunnel(site, body)
      const answer = (await response.json()) as { error: string; details?: string[] }
      expect(response.status).toBe(status)
      expect([answer.error, ...(answer.details ?? [])]).toContain(error)
    }
    expect(((await (await fetch(funnelsUrl(site), { headers: stack.adminHeaders })).json()) as { funnels: unknown[] }).funnels).toHaveLength(1)
    const bad = await stack.get(`/stats/funnel?site_id=${site}&date=2025-11-14&funnel_id=nope`)
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'funnel_id must be a UUID, as GET /sites/:id/funnels lists them' }])
    expect((await fetch(funnelsUrl(site), { method: 'POST', body: '{}' })).status).toBe(401)
  })
})

describe('breakdown properties', () => {
  test.each(['props:', 'props:has space', `props:${'k'.repeat(65)}`, 'goals', 'prop:plan'])('%p is refused', async (property) => {
    const response = await stack.get(`/stats/breakdown?site_id=s&date=2025-11-14&property=${encodeURIComponent(property)}`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: string }).error).toStartWith('property must be one of source, channel,')
  })
})
