import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'

// The reference web client (web/, bundled by scripts/build-web.ts during `npm run build`), served at
// / with its assets under /app/. Like /docs it is outside the API contract. The server runs from
// dist/ (npm start, the image) or from source (npm run dev, tests): either way the bundle's default
// place is dist/web/ of the checkout.
const here = dirname(fileURLToPath(import.meta.url))
const DEFAULT_DIR = basename(dirname(here)) === 'dist' ? resolve(here, '../web') : resolve(here, '../dist/web')

/**
 * The client's policy: its own script and stylesheet only (no inline script, no eval), requests and
 * the message socket to this server only. In CSP Level 3 browsers 'self' in connect-src also admits
 * ws: and wss: to the page's own host and port, which is what the socket needs.
 */
export const WEB_CLIENT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** GET / (the page) and GET /app/<name>-<hash>.js|.css|.svg, when WEB_CLIENT is on and the bundle is built. */
export default fp(
  async (app) => {
    if (!app.config.webClient) return
    const dir = app.config.webClientDir ?? DEFAULT_DIR
    const page = join(dir, 'index.html')
    if (!existsSync(page)) {
      app.log.warn({ dir }, 'WEB_CLIENT is on but the web client is not built there: run `npm run build`')
      return
    }
    // Read once at start: a few hundred kilobytes, and a new build comes with a restart.
    const html = readFileSync(page)
    const assets = new Map(
      readdirSync(join(dir, 'app'))
        .filter((name) => TYPES[extname(name)])
        .map((name) => [name, { type: TYPES[extname(name)], body: readFileSync(join(dir, 'app', name)) }]),
    )

    app.get('/', async (_request, reply) =>
      reply
        .header('content-security-policy', WEB_CLIENT_CSP)
        // Revalidated on every visit, so that a new build's asset names are picked up at once.
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .send(html),
    )
    app.get<{ Params: { file: string } }>('/app/:file', async (request, reply) => {
      const asset = assets.get(request.params.file)
      if (!asset) return reply.callNotFound()
      // The name carries a hash of the content: it never changes under the same name.
      return reply
        .header('content-security-policy', WEB_CLIENT_CSP)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .type(asset.type)
        .send(asset.body)
    })
  },
  { name: 'web-client', dependencies: ['config', 'security-headers', 'errors'] },
)
