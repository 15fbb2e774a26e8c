/**
 * Baseline for the ingest benchmark: the least an HTTP endpoint on this runtime can do for the same
 * request (read and parse the JSON body, answer 202 with a small JSON body), with no validation,
 * no framework and no queue. The product's figures are read against this one.
 *
 * Usage: bun bench/bare-server.ts --port <n>
 */
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { port: { type: 'string' } } })
const port = Number(values.port)
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('bare-server: --port <1-65535> is required')
  process.exit(2)
}

let jobs = 0

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  async fetch(request) {
    const url = new URL(request.url)
    if (request.method === 'GET' && url.pathname === '/health') return Response.json({ status: 'healthy' })
    if (request.method !== 'POST' || url.pathname !== '/event') return Response.json({ error: 'not found' }, { status: 404 })
    let body: unknown
    try {
      body = await request.json()
    } catch {
      return Response.json({ error: 'Invalid payload' }, { status: 400 })
    }
    // Read a field so the parse cannot be optimised away, and echo it like the product does.
    const eventId = typeof body === 'object' && body !== null && 'event_id' in body ? String(body.event_id) : ''
    jobs += 1
    return Response.json({ message: 'Event accepted for processing', jobId: String(jobs), eventId }, { status: 202 })
  },
})

console.log(JSON.stringify({ msg: 'bare server listening', port: server.port }))

process.on('SIGTERM', () => {
  void server.stop(true).then(() => process.exit(0))
})
