import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './plugins/config.js'
import configPlugin from './plugins/config.js'
import errors, { clientErrorHandler, frameworkErrors } from './plugins/errors.js'
import allowedHosts from './plugins/allowed-hosts.js'
import db from './plugins/db.js'
import mailer from './plugins/mailer.js'
import auth from './plugins/auth.js'
import mfa from './plugins/mfa.js'
import rateLimit from './plugins/rate-limit.js'
import openapi from './plugins/openapi.js'
import securityHeaders from './plugins/security-headers.js'
import cors from './plugins/cors.js'
import lockout from './plugins/lockout.js'
import deviceSignature from './plugins/device-signature.js'
import { handlers } from './routes/index.js'

export type BuildOptions = {
  /** Replaces the logger altogether (tests: false). */
  logger?: FastifyServerOptions['logger']
  /** Keeps the app's own logger settings (level, redaction) but writes to this stream. */
  logStream?: { write(line: string): void }
}

// The request log shows method, path and status only: no headers (tokens), no bodies (keys,
// ciphertext), and the reset token in the reset page's path is masked.
const serializers = {
  req: (req: { method: string; url: string; ip?: string }) => ({
    method: req.method,
    url: req.url.replace(/(\/auth\/password\/reset\/confirm\/[^/]+\/)[^/?]+/, '$1[redacted]'),
    remoteAddress: req.ip,
  }),
}

/** Builds the whole application from a validated config. Tests build exactly this. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel, serializers, ...(options.logStream && { stream: options.logStream }) },
    // Long path parameters are the schema's to judge (a clear 400), not the router's (a bare 414).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16384 },
    exposeHeadRoutes: false,
    trustProxy: config.trustProxy,
    // Room for a maximal message plus its JSON escaping; the per-message cap is checked in the handler.
    bodyLimit: Math.max(1024 * 1024, config.maxMessageBytes * 2 + 4096),
    // A request must arrive whole within REQUEST_TIMEOUT (slow-loris), an idle connection closes
    // after CONNECTION_TIMEOUT. Node checks the former only every connectionsCheckingInterval.
    requestTimeout: config.requestTimeout * 1000,
    connectionTimeout: config.connectionTimeout * 1000,
    // After an answer Node times a kept-alive socket by this, not by connectionTimeout.
    keepAliveTimeout: config.connectionTimeout * 1000,
    http: {
      headersTimeout: config.requestTimeout * 1000,
      connectionsCheckingInterval: Math.min(1000, config.requestTimeout * 250),
      // Node would answer a missing Host with a bare 400 of its own; the Host check answers instead.
      requireHostHeader: false,
    },
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false } },
  })
  await app.register(configPlugin, { config })
  await app.register(errors)
  // Headers first, so that even a refusal by the Host check carries them.
  await app.register(securityHeaders)
  await app.register(allowedHosts)
  await app.register(cors)
  await app.register(db)
  await app.register(mailer)
  await app.register(auth)
  await app.register(mfa)
  await app.register(lockout)
  await app.register(deviceSignature)
  await app.register(rateLimit)
  await app.register(openapi, { handlers })
  return app
}
