import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import { RESET_PAGE_STYLE } from '../lib/reset-page.js'

// The only HTML the API serves is the reset page: no scripts, one inline style block (allowed by
// its hash), and a form posting back to itself. Everything else is JSON, which needs nothing.
// (The /docs page, outside the API, widens this for its own routes: plugins/docs.ts.)
const styleHash = `'sha256-${createHash('sha256').update(RESET_PAGE_STYLE).digest('base64')}'`

/** The headers helmet sets for these options. They depend on nothing in the request. */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader: () => {},
  }
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err
  })
  return headers
}

export default fp(
  async (app) => {
    const headers = helmetHeaders({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: [styleHash],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      // A CORS-enabled API must be readable cross-origin by the browsers CORS_ALLOWED_ORIGINS admits.
      crossOriginResourcePolicy: { policy: app.config.corsAllowedOrigins.length ? 'cross-origin' : 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
      frameguard: { action: 'deny' }, // as frame-ancestors 'none', for browsers without CSP
      strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
    })
    // Answers carry tokens, keys and ciphertext: no cache may keep them (a route may say otherwise).
    headers['cache-control'] = 'no-store'
    // Computed once: @fastify/helmet would build helmet's middleware again for every request.
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers)
      done()
    })
  },
  { name: 'security-headers', dependencies: ['config'] },
)
