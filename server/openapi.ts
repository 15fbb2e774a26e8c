import { openapi } from '@elysiajs/openapi'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Elysia } from 'elysia'
import { HTML_SECURITY_HEADERS } from './http'

/*
 * The API reference at /openapi is Scalar's standalone bundle from the pinned npm package
 * @scalar/api-reference (MIT), served from node_modules: the page works offline, under the
 * product's content security policy, and shows the same UI until the package is upgraded. The
 * plugin's own page would load an unpinned bundle from a CDN.
 */
const packageDir = join(dirname(Bun.resolveSync('@scalar/api-reference', import.meta.dir)), '..')
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }
const bundle = join(packageDir, 'dist', 'browser', 'standalone.js')
/** The version is in the URL, so browsers may keep the 4.9 MB bundle for good. */
export const SCALAR_BUNDLE_PATH = `/openapi/assets/scalar-api-reference-${version}.js`

const TITLE = 'Analytics API'

// Scalar reads its configuration from this element. Off: what would call Scalar's servers (its
// fonts, telemetry, the AI agent) and its promotion of its hosted tools.
const configuration = JSON.stringify({
  url: '/openapi/json',
  defaultOpenAllTags: true,
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: 'never',
}).replaceAll("'", '&#39;')
const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${TITLE}</title>
  </head>
  <body>
    <div id="api-reference" data-configuration='${configuration}'></div>
    <script src="${SCALAR_BUNDLE_PATH}"></script>
  </body>
</html>`

/** GET /openapi (the reference), /openapi/json (the document) and the reference's script. */
export function openapiRoutes() {
  return new Elysia({ name: 'openapi' })
    .use(
      openapi({
        path: '/openapi',
        provider: null,
        documentation: {
          info: { title: TITLE, version: '1.0.0', description: 'Event ingestion and reporting. Generated from the route schemas.' },
        },
      }),
    )
    .get('/openapi', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...HTML_SECURITY_HEADERS } }), {
      detail: { hide: true },
    })
    .get(
      SCALAR_BUNDLE_PATH,
      () =>
        new Response(Bun.file(bundle), {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' },
        }),
      { detail: { hide: true } },
    )
}
