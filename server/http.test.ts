import { afterAll, beforeAll, expect, test } from 'bun:test'
import net from 'node:net'
import { startStack, type Stack } from '../tests/support'
import { BODY_DEADLINE_MS } from './http'

let stack: Stack
beforeAll(async () => {
  stack = await startStack('http')
})
afterAll(() => stack.close())

test('a body trickled a byte a second is answered 408 at the deadline and its connection closed; others are served meanwhile', async () => {
  const started = performance.now()
  const socket = net.connect(Number(new URL(stack.baseUrl).port), '127.0.0.1')
  let answer = ''
  socket.on('data', (chunk) => (answer += chunk.toString()))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.write('POST /event HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n')
  // Bun's idle timeout restarts on every byte, so this alone would hold the connection.
  const trickle = setInterval(() => socket.write('{'), 1_000)
  try {
    const health = await stack.get('/health')
    expect(health.status).toBe(200)
    await closed
  } finally {
    clearInterval(trickle)
    socket.destroy()
  }
  const seconds = (performance.now() - started) / 1000
  expect(answer).toStartWith('HTTP/1.1 408')
  expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'request body not received within 10 s' })
  expect(seconds).toBeGreaterThanOrEqual(BODY_DEADLINE_MS / 1000 - 0.5)
  expect(seconds).toBeLessThan(BODY_DEADLINE_MS / 1000 + 10)
})
