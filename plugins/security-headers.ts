import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
import { RESET_PAGE_STYLE } from '../routes/reset-page.js'

// The only HTML the server serves is the reset page: no scripts, one inline style block (allowed by
// its hash), and a form posting back to itself. Everything else is JSON, which needs nothing.
const styleHash = `'sha256-${createHash('sha256').update(RESET_PAGE_STYLE).digest('base64')}'`

export default fp(
  async (app) => {
    await app.register(helmet, {
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
    // Answers carry tokens, keys and ciphertext: no cache may keep them.
    app.addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    })
  },
  { name: 'security-headers', dependencies: ['config'] },
)
