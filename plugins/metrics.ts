import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ApiError } from '../lib/api-error.js'
import { parseAuthorization } from '../lib/credentials.js'
import { errors } from '../lib/errors.js'
import { operationLabel } from '../lib/operation-label.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      /** This app's own registry (tests build many apps in one process: no global registry). */
      registry: Registry
      /** Whether /metrics is served at all (METRICS_TOKEN or METRICS_PORT set). */
      enabled: boolean
      /** Where the separate metrics listener is bound, once the app is ready (METRICS_PORT only). */
      address(): AddressInfo | undefined
      /** Counts a prekey bundle handed out without one-time keys because its device passed PREKEY_CLAIM_LIMIT. */
      bundleLimited(): void
    }
  }
}

// What the WebSocket delivery plugin offers, when it is registered; typed here so that this
// plugin compiles and counts 0 without it.
type WithDelivery = { delivery?: { connectionCount(): number } }

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Whether an Authorization header carries the metrics token; constant time in the token. */
function authorized(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true
  const presented = parseAuthorization(header)
  return presented?.scheme === 'bearer' && timingSafeEqual(digest(presented.credentials), digest(token))
}

const unauthorized = () =>
  errors.notAuthenticated('Send the metrics token as Authorization: Bearer <METRICS_TOKEN>.', {
    'www-authenticate': 'Bearer realm="metrics"',
  })

function collectors(app: FastifyInstance, registry: Registry) {
  collectDefaultMetrics({ register: registry })
  const labelNames = ['operationId', 'status'] as const
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Answered HTTP requests, by operationId (unknown: no route matched) and status.',
    labelNames,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to sending its answer, by operationId and status.',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  app.addHook('onResponse', async (request, reply) => {
    const labels = { operationId: operationLabel(request), status: String(reply.statusCode) }
    requests.inc(labels)
    duration.observe(labels, reply.elapsedTime / 1000)
  })

  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections: used (checked out), free (idle), pending (requests waiting for one), max.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(app.db.poolStats())) this.set({ state }, n)
    },
  })
  // Counted at each scrape: the queue is what recipients have not fetched yet, so it stays small
  // on a healthy server, and a scrape every few seconds costs one index count.
  new Gauge({
    name: 'messages_queued',
    help: 'Messages stored and not yet deleted by their recipient.',
    registers: [registry],
    async collect() {
      this.set(await app.db.messages.countAll())
    },
  })
  new Gauge({
    name: 'websocket_connections_active',
    help: 'Open WebSocket delivery connections.',
    registers: [registry],
    collect() {
      this.set(app.hasDecorator('delivery') ? ((app as unknown as WithDelivery).delivery?.connectionCount() ?? 0) : 0)
    },
  })
}

/** The metrics listener of METRICS_PORT: GET /metrics only, answers in the API's error shape. */
function metricsServer(app: FastifyInstance, registry: Registry): Server {
  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    headers: Record<string, string | number> = {},
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    })
    res.end(body)
  }
  const fail = (res: ServerResponse, err: ApiError) =>
    send(
      res,
      err.statusCode,
      'application/json; charset=utf-8',
      JSON.stringify({ code: err.code, message: err.message }),
      err.headers,
    )
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '')
    if (path !== '/metrics') return fail(res, errors.notFound())
    if (req.method !== 'GET') return fail(res, errors.methodNotAllowed(req.method ?? '', 'GET'))
    if (!authorized(req.headers.authorization, app.config.metricsToken)) return fail(res, unauthorized())
    registry.metrics().then(
      (text) => send(res, 200, registry.contentType, text),
      (err: Error) => {
        app.log.error({ err: { type: err.name, message: err.message } }, 'metrics collection failed')
        fail(res, errors.serverError())
      },
    )
  })
}

/**
 * Prometheus metrics. Served on a separate listener (METRICS_PORT on METRICS_HOST, default
 * 127.0.0.1) when METRICS_PORT is set, else at GET /metrics on the API port when METRICS_TOKEN is
 * set; the token, when set, is required either way. With neither, nothing is collected or served.
 */
export default fp(
  async (app) => {
    const registry = new Registry()
    const { metricsToken, metricsPort, metricsHost } = app.config
    const enabled = metricsToken !== undefined || metricsPort !== undefined
    let server: Server | undefined
    const limited = new Counter({
      name: 'prekey_bundles_limited_total',
      help: 'Prekey bundles handed out without one-time keys: their device had given out PREKEY_CLAIM_LIMIT.',
      registers: [registry],
    })
    app.decorate('metrics', {
      registry,
      enabled,
      address: () => (server?.listening ? (server.address() as AddressInfo) : undefined),
      bundleLimited: () => limited.inc(),
    })
    if (!enabled) return
    collectors(app, registry)

    if (metricsPort === undefined) {
      // Outside openapi.yaml: an operator's endpoint, not part of the client API.
      app.get('/metrics', async (request, reply) => {
        if (!authorized(request.headers.authorization, metricsToken)) throw unauthorized()
        return reply.type(registry.contentType).send(await registry.metrics())
      })
      return
    }
    const listener = metricsServer(app, registry)
    server = listener
    // Opened with the app (listen or ready) so that a taken port stops the start-up.
    app.addHook(
      'onReady',
      () =>
        new Promise<void>((resolve, reject) => {
          listener.once('error', reject)
          listener.listen(metricsPort, metricsHost, () => {
            listener.off('error', reject)
            resolve()
          })
        }),
    )
    app.addHook(
      'onClose',
      () =>
        new Promise<void>((resolve) => {
          listener.closeAllConnections()
          listener.close(() => resolve())
        }),
    )
  },
  { name: 'metrics', dependencies: ['config', 'db'] },
)
