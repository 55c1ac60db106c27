import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyReply } from 'fastify'
import { spec } from '../lib/spec.js'

// Swagger UI from the pinned swagger-ui-dist package, served by this server: no CDN, nothing
// fetched from elsewhere by the browser.
const distDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))

/**
 * The docs page's policy: still nothing from other origins, no inline scripts and no eval; its own
 * scripts and stylesheet, the icons Swagger UI's stylesheet inlines as data: URLs, and requests to
 * this server (the spec, and "Try it out").
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

// No inline script: the page loads this, which the policy allows as 'self'.
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/docs/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    displayOperationId: true, // the SDK and the metrics name operations by it
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  })
})
`

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

// Read once per process, on first use (the bundle is 1.5 MB; most processes never serve it).
const cache = new Map<string, Buffer>()
const asset = (name: string) => cache.get(name) ?? cache.set(name, readFileSync(join(distDir, name))).get(name)!

/** GET /docs: Swagger UI of openapi.yaml, and /docs/openapi.json, the spec itself. Outside the spec. */
export default fp(
  async (app) => {
    // helmet (plugins/security-headers.ts) has set the API's policy; these routes need a little more.
    const docsHeaders = (reply: FastifyReply, type: string, cacheable = false) => {
      reply.header('content-security-policy', DOCS_CSP).type(type)
      if (cacheable) reply.header('cache-control', 'public, max-age=3600')
      return reply
    }
    const specJson = JSON.stringify(spec)
    const html = page(`${app.config.applicationName} API`)

    app.get('/docs', async (_request, reply) => docsHeaders(reply, 'text/html; charset=utf-8').send(html))
    app.get('/docs/openapi.json', async (_request, reply) =>
      docsHeaders(reply, 'application/json; charset=utf-8').send(specJson),
    )
    app.get('/docs/init.js', async (_request, reply) =>
      docsHeaders(reply, 'text/javascript; charset=utf-8', true).send(INIT_JS),
    )
    for (const [name, type] of Object.entries(ASSETS)) {
      app.get(`/docs/${name}`, async (_request, reply) => docsHeaders(reply, type, true).send(asset(name)))
    }
  },
  { name: 'docs', dependencies: ['config', 'security-headers'] },
)
