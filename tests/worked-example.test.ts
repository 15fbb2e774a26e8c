/** DESIGN.md §2's worked example, end to end: HTTP -> queue -> worker -> Postgres -> /stats. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startStack, type Stack } from './support'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('worked')
})
afterAll(() => stack.close())

const site = 'demo-site'
const events = [
  { user_id: 'user-001', path: '/home', timestamp: '2025-11-14T12:00:00Z' },
  { user_id: 'user-002', path: '/products', timestamp: '2025-11-14T12:05:00Z' },
  { user_id: 'user-001', path: '/products', timestamp: '2025-11-14T12:10:00Z' },
  { path: '/home', timestamp: '2025-11-14T12:15:00Z' },
  { user_id: 'user-003', path: '/about', timestamp: '2025-11-14T12:20:00Z' },
]

test('the worked example gives 5 views, 3 users and the top paths in order', async () => {
  const jobIds: string[] = []
  for (const event of events) {
    const response = await stack.post('/event', { site_id: site, event_type: 'page_view', ...event })
    expect(response.status).toBe(202)
    const body = (await response.json()) as { message: string; jobId: string; eventId: string }
    expect(body.message).toBe('Event accepted for processing')
    expect(body.jobId).toBeString()
    expect(body.eventId).toBeString()
    jobIds.push(body.jobId)
  }
  await stack.jobs.wait(jobIds)

  const response = await stack.get(`/stats?site_id=${site}&date=2025-11-14`)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('application/json')
  expect(await response.text()).toBe(
    '{"site_id":"demo-site","date":"2025-11-14","total_views":5,"unique_users":3,' +
      '"top_paths":[{"path":"/home","views":2},{"path":"/products","views":2},{"path":"/about","views":1}]}',
  )
})

test('the worked example in visits: 4 visitors, 4 visits, 75% bounces, 150 s, 1.25 views per visit', async () => {
  const range = `site_id=${site}&from=2025-11-14&to=2025-11-14`
  const stats = (await (await stack.get(`/stats?${range}`)).json()) as Record<string, unknown>
  expect(stats).toMatchObject({ visitors: 4, visits: 4, bounce_rate: 75, visit_duration: 150, views_per_visit: 1.25 })
  const breakdown = async (property: string) =>
    ((await (await stack.get(`/stats/breakdown?${range}&property=${property}`)).json()) as { results: unknown[] }).results
  const pages = (rows: unknown[]) => (rows as { value: string; visits: number }[]).map((row) => [row.value, row.visits])
  expect(pages(await breakdown('entry_page'))).toEqual([
    ['/home', 2],
    ['/about', 1],
    ['/products', 1],
  ])
  expect(pages(await breakdown('exit_page'))).toEqual([
    ['/products', 2],
    ['/about', 1],
    ['/home', 1],
  ])
  expect(await breakdown('source')).toEqual([{ value: 'Direct / None', visitors: 4, visits: 4, views: 5, bounce_rate: 75, visit_duration: 150 }])
  expect(((await breakdown('channel')) as { value: string }[]).map((row) => row.value)).toEqual(['Direct'])
})

test('/health reports healthy with the contract fields, and no replica check without STATS_DATABASE_URL', async () => {
  const response = await stack.get('/health')
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({ status: 'healthy', service: 'analytics-api', checks: { redis: 'up', postgres: 'up' } })
})
