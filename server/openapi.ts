import { openapi } from '@elysiajs/openapi'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Elysia } from 'elysia'
import type { Access } from './access'
import { HTML_SECURITY_HEADERS } from './http'

/*
 * The API reference at /openapi is Swagger UI from the pinned npm package swagger-ui-dist
 * (Apache-2.0, no dependencies), served from node_modules: the page works offline, under the
 * product's content security policy, and shows the same UI until the package is upgraded. The
 * plugin's own page would load an unpinned bundle from a CDN.
 */
const packageDir = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }
/** The version is in the URLs, so browsers may keep the files for good. */
export const ASSETS_PATH = `/openapi/assets/swagger-ui-${version}`

const TITLE = 'Analytics API'

// The page's own start-up script is a file too: the content security policy runs no inline script.
const initializer = `window.ui = SwaggerUIBundle({ url: '/openapi/json', dom_id: '#swagger-ui', deepLinking: true, docExpansion: 'list', validatorUrl: 'none' })\n`
const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${TITLE}</title>
    <link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${ASSETS_PATH}/initializer.js"></script>
  </body>
</html>`

const immutable = (contentType: string) => ({
  'content-type': contentType,
  'cache-control': 'public, max-age=31536000, immutable',
  'x-content-type-options': 'nosniff',
})

/** GET /openapi (the reference), /openapi/json (the document) and the reference's files: public. */
export function openapiRoutes(deps: { access: Access }) {
  return new Elysia({ name: 'openapi' })
    .use(deps.access.plugin)
    .guard({ access: 'public' })
    .use(
      openapi({
        path: '/openapi',
        provider: null,
        documentation: {
          info: { title: TITLE, version: '1.0.0', description: 'Event ingestion and reporting. Generated from the route schemas.' },
        },
      }),
    )
    .get(
      '/openapi',
      () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...HTML_SECURITY_HEADERS } }),
      {
        detail: { hide: true },
      },
    )
    .get(`${ASSETS_PATH}/swagger-ui.css`, () => new Response(Bun.file(join(packageDir, 'swagger-ui.css')), { headers: immutable('text/css; charset=utf-8') }), {
      detail: { hide: true },
    })
    .get(
      `${ASSETS_PATH}/swagger-ui-bundle.js`,
      () => new Response(Bun.file(join(packageDir, 'swagger-ui-bundle.js')), { headers: immutable('text/javascript; charset=utf-8') }),
      {
        detail: { hide: true },
      },
    )
    .get(`${ASSETS_PATH}/initializer.js`, () => new Response(initializer, { headers: immutable('text/javascript; charset=utf-8') }), { detail: { hide: true } })
}
