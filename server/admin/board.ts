import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { ElysiaAdapter } from '@bull-board/elysia'
import type { Queue } from 'bullmq'
import { Elysia } from 'elysia'
import type { Access } from '../access'

export const BOARD_PATH = '/admin/queues'

/** Bull Board for the given queues at /admin/queues: every route of it, pages and API alike, is admin-only. */
export async function adminRoutes(deps: { queues: Queue[]; access: Access }) {
  const adapter = new ElysiaAdapter(BOARD_PATH)
  createBullBoard({ queues: deps.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: adapter })
  // The board registers its error handler as a scoped hook; nesting it one level down keeps that
  // handler inside this plugin, so it cannot turn the API's own 400s into 500s.
  return new Elysia({ name: 'admin' })
    .use(deps.access.plugin)
    .guard({ access: 'admin' })
    .use(new Elysia({ name: 'bull-board-host' }).use(await adapter.registerPlugin()))
}
