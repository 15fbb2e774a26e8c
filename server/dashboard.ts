import { Elysia } from 'elysia'
import { existsSync, statSync } from 'node:fs'
import { join, normalize, sep } from 'node:path'
import type { Access } from './access'
import { HTML_SECURITY_HEADERS } from './http'
import { ShareParams } from './sharing/routes'

/**
 * Serves the built dashboard (dashboard/dist) at `/`, for signed-in accounts, and at `/share/<token>`
 * for a shared link's holder; its hashed assets under /assets and its icon at /favicon.svg (the
 * login page's too), to anyone: they are the same for every install and hold no data.
 */
export function dashboardRoutes(deps: { distDir: string; access: Access }) {
  const index = join(deps.distDir, 'index.html')
  const assets = join(deps.distDir, 'assets') + sep
  const page = ({ status }: { status: (code: 503, body: { error: string }) => unknown }) => {
    if (!existsSync(index)) return status(503, { error: 'The dashboard is not built yet: run `bun run build:dashboard`.' })
    return new Response(Bun.file(index), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...HTML_SECURITY_HEADERS } })
  }
  const favicon = join(deps.distDir, 'favicon.svg')
  return new Elysia({ name: 'dashboard' })
    .use(deps.access.plugin)
    .guard({ access: 'public' }, (anyone) =>
      anyone.get(
        '/assets/*',
        ({ params, status }) => {
          const file = normalize(join(assets, params['*']))
          // Only files inside assets/: `/assets/` itself and `/assets/.` name the folder.
          if (!file.startsWith(assets) || !statSync(file, { throwIfNoEntry: false })?.isFile()) return status(404, { error: 'No such asset' })
          // Vite puts a content hash in every asset name, so they never change.
          return new Response(Bun.file(file), { headers: { 'cache-control': 'public, max-age=31536000, immutable' } })
        },
        { detail: { hide: true } },
      )
      .get(
        '/favicon.svg',
        ({ status }) => {
          if (!existsSync(favicon)) return status(404, { error: 'The dashboard is not built yet: run `bun run build:dashboard`.' })
          // Not hashed, so browsers check back now and then.
          return new Response(Bun.file(favicon), { headers: { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' } })
        },
        { detail: { hide: true } },
      ),
    )
    // A shared link opens the same page, which then trades the link for a session of that one site.
    .guard({ access: 'public' }, (anyone) => anyone.get('/share/:token', page, { params: ShareParams, detail: { hide: true } }))
    .guard({ access: 'member' }, (members) => members.get('/', page, { detail: { hide: true } }))
}
