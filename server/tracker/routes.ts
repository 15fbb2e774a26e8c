import { Elysia } from 'elysia'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Access } from '../access'

/**
 * The tracker is TypeScript so that tsc checks it with the rest of the code (DOM types
 * included). It is one file without imports, so stripping types and comments is its whole
 * build: Bun.Transpiler does that synchronously, which keeps plugin creation synchronous.
 */
export function buildTrackerScript(): string {
  const source = readFileSync(join(import.meta.dir, 'tracker.ts'), 'utf8')
  return new Bun.Transpiler({ loader: 'ts', target: 'browser', minifyWhitespace: true }).transformSync(source)
}

/** Whether an Accept-Encoding header lists gzip with a non-zero quality (`gzip;q=0` refuses it). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return (acceptEncoding ?? '').split(',').some((entry) => {
    const [coding, ...params] = entry.split(';').map((part) => part.trim().toLowerCase())
    const quality = params.find((param) => param.startsWith('q='))
    return coding === 'gzip' && (quality === undefined || Number(quality.slice(2)) > 0)
  })
}

/** GET /script.js: the browser tracker that sites embed (see tracker.ts). */
export function trackerRoutes(deps: { access: Access }) {
  const script = buildTrackerScript()
  const gzipped = Bun.gzipSync(script)
  const headers = {
    'content-type': 'application/javascript; charset=utf-8',
    'cache-control': 'public, max-age=3600',
    // A plain <script> needs no CORS, but <script crossorigin> (for integrity or error details) does.
    'access-control-allow-origin': '*',
    vary: 'accept-encoding',
  }
  return new Elysia({ name: 'tracker' })
    .use(deps.access.plugin)
    .guard({ access: 'public' })
    .get(
      '/script.js',
      ({ headers: request }) =>
        acceptsGzip(request['accept-encoding'])
          ? new Response(gzipped, { headers: { ...headers, 'content-encoding': 'gzip' } })
          : new Response(script, { headers }),
      { detail: { summary: 'The browser tracker to embed with <script defer src=".../script.js" data-site="…">', tags: ['tracker'] } },
    )
}
