import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './lib/config.js'
import configPlugin from './plugins/config.js'
import errors, { clientErrorHandler, frameworkErrors } from './plugins/errors.js'
import refusals from './plugins/refusals.js'
import allowedHosts from './plugins/allowed-hosts.js'
import db from './plugins/db.js'
import health from './plugins/health.js'
import mailer from './plugins/mailer.js'
import auth from './plugins/auth.js'
import mfa from './plugins/mfa.js'
import rateLimit from './plugins/rate-limit.js'
import openapi from './plugins/openapi.js'
import securityHeaders from './plugins/security-headers.js'
import cors from './plugins/cors.js'
import lockout from './plugins/lockout.js'
import deviceSignature from './plugins/device-signature.js'
import bus from './plugins/bus.js'
import delivery from './plugins/delivery.js'
import provisioning from './plugins/provisioning.js'
import messageExpiry from './plugins/message-expiry.js'
import housekeeping from './plugins/housekeeping.js'
import requestLog, { loggerOptions } from './plugins/request-log.js'
import metrics from './plugins/metrics.js'
import docs from './plugins/docs.js'
import webClient from './plugins/web-client.js'
import { handlers } from './routes/index.js'

export type BuildOptions = {
  /** Replaces the logger altogether (tests: false). */
  logger?: FastifyServerOptions['logger']
  /** Keeps the app's own logger settings (level, redaction) but writes to this stream. */
  logStream?: { write(line: string): void }
}

/** Builds the whole application from a validated config. Tests build exactly this. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config, { stream: options.logStream }),
    // plugins/request-log.ts writes one line per request instead, with its operationId.
    logController: new LogController({ disableRequestLogging: true }),
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
    // While shutting down (server.ts), a request that still arrives on an open connection is served
    // with `Connection: close` rather than refused with an undocumented 503: the drain is short.
    return503OnClosing: false,
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false } },
  })
  await app.register(configPlugin, { config })
  await app.register(errors)
  await app.register(refusals)
  await app.register(requestLog)
  // Headers first, so that even a refusal by the Host check carries them.
  await app.register(securityHeaders)
  await app.register(allowedHosts)
  await app.register(cors)
  await app.register(health)
  await app.register(db)
  await app.register(mailer)
  await app.register(auth)
  await app.register(mfa)
  await app.register(lockout)
  await app.register(deviceSignature)
  await app.register(messageExpiry)
  await app.register(housekeeping)
  await app.register(rateLimit)
  // Operator and documentation routes, outside openapi.yaml.
  await app.register(metrics)
  await app.register(docs)
  await app.register(webClient)
  await app.register(bus)
  await app.register(delivery)
  await app.register(provisioning)
  await app.register(openapi, { handlers })
  return app
}
