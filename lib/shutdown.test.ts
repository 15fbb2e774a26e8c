import { expect, test } from 'bun:test'
import { join } from 'node:path'

/**
 * A process that stops through onShutdown: a first step that resolves, then one that takes
 * `hangMs` (never, when negative), under a deadline of `deadlineMs`. It prints its log lines.
 */
const SCRIPT = `
import { createLogger } from ${JSON.stringify(join(import.meta.dir, 'log.ts'))}
import { onShutdown } from ${JSON.stringify(join(import.meta.dir, 'shutdown.ts'))}
const { hangMs, deadlineMs, failing } = JSON.parse(process.argv.at(-1))
const log = createLogger('test')
const steps = [
  { name: 'first', close: () => log.info('first closed') },
  { name: 'slow', close: () => (hangMs < 0 ? new Promise(() => {}) : Bun.sleep(hangMs)) },
  { name: 'failing', close: () => { if (failing) throw new Error('cannot close') } },
  { name: 'last', close: () => log.info('last closed') },
]
onShutdown(steps, { name: 'test', log, deadlineMs })
// Keeps the process alive until a signal, as a server or a worker does.
setInterval(() => {}, 1_000)
log.info('ready')
`

async function stopChild(args: { hangMs: number; deadlineMs: number; failing?: boolean; signal?: NodeJS.Signals }) {
  const child = Bun.spawn(['bun', '-e', SCRIPT, JSON.stringify(args)], { stdout: 'pipe', stderr: 'inherit' })
  const lines: string[] = []
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader()
  const read = async (until?: string) => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      lines.push(...value.split('\n').filter(Boolean))
      if (until && lines.some((line) => line.includes(until))) return
    }
  }
  await read('"ready"')
  child.kill(args.signal ?? 'SIGTERM')
  child.kill(args.signal ?? 'SIGTERM') // A second signal must not start a second stop.
  await read()
  const messages = lines.map((line) => JSON.parse(line) as { msg: string; step?: string })
  return { code: await child.exited, messages }
}

test('on SIGTERM the steps run once, in order, and the process exits 0', async () => {
  const { code, messages } = await stopChild({ hangMs: 0, deadlineMs: 10_000 })
  expect(code).toBe(0)
  expect(messages.map((m) => m.msg)).toEqual(['ready', 'test stopping', 'first closed', 'last closed', 'test stopped'])
})

test('SIGINT stops the same way', async () => {
  const { code, messages } = await stopChild({ hangMs: 0, deadlineMs: 10_000, signal: 'SIGINT' })
  expect(code).toBe(0)
  expect(messages.at(-1)!.msg).toBe('test stopped')
})

test('a step that hangs past the deadline: exit 1, with a line naming the step', async () => {
  const { code, messages } = await stopChild({ hangMs: -1, deadlineMs: 200 })
  expect(code).toBe(1)
  expect(messages.at(-1)).toMatchObject({ msg: 'test did not stop within the deadline', step: 'slow' })
})

test('a step that throws: the later steps still run, then exit 1', async () => {
  const { code, messages } = await stopChild({ hangMs: 0, deadlineMs: 10_000, failing: true })
  expect(code).toBe(1)
  expect(messages.map((m) => m.msg)).toEqual(['ready', 'test stopping', 'first closed', 'test stop step failed', 'last closed', 'test stopped'])
})
