/** Goals: admin-only CRUD with clear refusals, and the breakdown's property names. */
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

  test('are for admins only: readers without the admin password are refused', async () => {
    const anonymous = await fetch(goalsUrl('goals-crud'))
    expect(anonymous.status).toBe(401)
    const added = await post('goals-auth', { event_type: 'x' }, { authorization: `Basic ${btoa('admin:wrong')}` })
    expect(added.status).toBe(401)
    expect(await (await fetch(goalsUrl('goals-auth'), { headers: stack.adminHeaders })).json()).toEqual({ goals: [] })
  })
})

describe('breakdown properties', () => {
  test.each(['props:', 'props:has space', `props:${'k'.repeat(65)}`, 'goals', 'prop:plan'])('%p is refused', async (property) => {
    const response = await stack.get(`/stats/breakdown?site_id=s&date=2025-11-14&property=${encodeURIComponent(property)}`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: string }).error).toStartWith('property must be one of source, channel,')
  })
})
