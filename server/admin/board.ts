import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { ElysiaAdapter } from '@bull-board/elysia'
import type { Queue } from 'bullmq'
import { timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import { pathOf } from '../http'

export const BOARD_PATH = '/admin/queues'

export interface AdminCredentials {
  user: string
  password: string
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** True when an `Authorization: Basic …` header carries exactly these credentials. */
export function isAuthorized(header: string | null, credentials: AdminCredentials): boolean {
  if (!header?.startsWith('Basic ')) return false
  const decoded = Buffer.from(header.slice(6), 'base64').toString()
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  return sameSecret(decoded.slice(0, colon), credentials.user) && sameSecret(decoded.slice(colon + 1), credentials.password)
}

/** Bull Board for the given queues at /admin/queues, behind HTTP Basic authentication. */
export async function adminRoutes(deps: { queues: Queue[]; credentials: AdminCredentials }) {
  const adapter = new ElysiaAdapter(BOARD_PATH)
  createBullBoard({ queues: deps.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: adapter })
  // The board registers its error handler as a scoped hook; nesting it one level down keeps that
  // handler inside this plugin, so it cannot turn the API's own 400s into 500s.
  const board = new Elysia({ name: 'bull-board-host' }).use(await adapter.registerPlugin())
  return new Elysia({ name: 'admin' })
    .onRequest(({ request, set }) => {
      const pathname = pathOf(request)
      if (pathname !== BOARD_PATH && !pathname.startsWith(`${BOARD_PATH}/`)) return
      if (isAuthorized(request.headers.get('authorization'), deps.credentials)) return
      set.status = 401
      set.headers['www-authenticate'] = 'Basic realm="analytics admin", charset="UTF-8"'
      return { error: 'Authentication required' }
    })
    .use(board)
}
