import fp from 'fastify-plugin'
import openapiGlue from 'fastify-openapi-glue'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { operations, spec, type OperationInfo } from '../lib/spec.js'
import type { ThrottleScope } from './rate-limit.js'

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

// Bodies are checked strictly: no type coercion, and `additionalProperties: false` rejects rather
// than silently strips. Path parameters arrive as strings, so there numbers are coerced.
function makeAjv(coerce: boolean) {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    coerceTypes: coerce,
    removeAdditional: false,
    useDefaults: false,
  })
  addFormats(ajv)
  return ajv
}

// Operations that answer 400 as a page (the reset form) render their own validation errors.
const rendersErrors = (op: OperationInfo) => op.responseTypes['400'] === 'text/html'

function checkBody(op: OperationInfo, request: FastifyRequest): void {
  if (op.bodyTypes.length === 0) return
  if (request.body === undefined || request.body === null) {
    if (op.bodyRequired && !rendersErrors(op)) throw errors.invalidField('body', 'is required')
    return
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (!op.bodyTypes.includes(type)) throw errors.unsupportedMediaType(op.bodyTypes)
}

/**
 * What is wrong with a route the glue hands over, judged against its operation's `security`: the
 * glue's check must be its one preHandler, and nothing of the glue's may sit in onRequest (the
 * hooks this plugin sets there replace whatever was there).
 */
function wiringProblem(
  op: Pick<OperationInfo, 'operationId' | 'authenticated'>,
  route: { preHandler?: unknown; onRequest?: unknown },
): string | undefined {
  if (op.authenticated && typeof route.preHandler !== 'function')
    return `${op.operationId} has security in openapi.yaml but no authentication hook in preHandler`
  if (route.onRequest !== undefined && (!Array.isArray(route.onRequest) || route.onRequest.length))
    return `${op.operationId} arrives with onRequest hooks`
  if (!op.authenticated && route.preHandler !== undefined)
    return `${op.operationId} has no security in openapi.yaml but a preHandler`
  return undefined
}

export default fp<{ handlers: Handlers }>(
  async (app, { handlers }) => {
    const bodyAjv = makeAjv(false)
    const paramAjv = makeAjv(true)
    app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema))

    // An empty body with a JSON content type is "no body" (some clients always send the header);
    // operations that need one answer 400 for it below.
    const parseJson = app.getDefaultJsonParser('error', 'error')
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      req.rawBody = body as string // what a request signature covers
      return body === '' ? done(null, undefined) : parseJson(req, body as string, done)
    })
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    )
    // The spec answers text/html but never accepts it; an explicit refusal also keeps
    // fastify-openapi-glue from warning at every start that no parser exists for it.
    app.addContentTypeParser('text/html', (_req, _payload, done) => done(errors.unsupportedMediaType(), undefined))

    // Order per operation, all from the spec: authenticate (its `security`), throttle, then check
    // the body's presence and type before schema validation. fastify-openapi-glue puts security in
    // preHandler, after validation; it moves to onRequest so that an anonymous caller learns nothing
    // about a body before being refused.
    //
    // That move depends on where the glue puts the check, so the wiring is verified as it is made:
    // an operation with `security` whose route arrives without the glue's check in preHandler (or
    // with hooks of the glue's elsewhere, which would be overwritten) stops start-up, as does an
    // operation of the spec that never got a route. A glue upgrade cannot silently drop authentication.
    const wiring = new Map<string, string | undefined>()
    app.addHook('onRoute', (route) => {
      const op = operations.get((route.schema as { operationId?: string } | undefined)?.operationId ?? '')
      if (!op) return
      const authenticate = route.preHandler
      wiring.set(op.operationId, wiringProblem(op, route))
      delete route.preHandler
      // Probes are polled by infrastructure every few seconds: a throttle would turn them into outages.
      const scopes: ThrottleScope[] = op.probe
        ? []
        : [op.authenticated ? 'user' : 'anon', ...(op.throttles as ThrottleScope[])]
      route.onRequest = [
        // A browser's credentials arrive as subprotocols; from there on, the same checks as for every operation.
        ...(op.websocket ? [async (request: FastifyRequest) => app.delivery.liftCredentials(request)] : []),
        ...(authenticate ? [authenticate as never] : []),
        async (request: FastifyRequest) => {
          for (const scope of scopes) await app.throttle.check(scope, request)
        },
      ]
      route.preValidation = async (request: FastifyRequest) => checkBody(op, request)
      // After validation: only a well-formed request can use up a signature counter.
      if (op.deviceSigned) route.preHandler = async (request: FastifyRequest) => app.deviceSignature.check(request)
      // Refusals come before the upgrade, as HTTP answers the spec documents.
      if (op.operationId === 'openMessageSocket')
        route.preHandler = [
          route.preHandler as never,
          async (request: FastifyRequest) => app.delivery.authorize(request),
        ].filter(Boolean)
      if (rendersErrors(op)) route.attachValidation = true
    })

    const serviceHandlers: Record<string, (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>> = {}
    for (const [operationId, handler] of Object.entries(handlers)) {
      const op = operations.get(operationId)!
      serviceHandlers[operationId] = async (request, reply) => {
        const { status, body } = await (handler as (r: FastifyRequest) => Promise<{ status: number; body?: unknown }>)(
          request,
        )
        const type = op.responseTypes[String(status)]
        if (type) reply.type(type.startsWith('text/') ? `${type}; charset=utf-8` : type)
        return reply.code(status).send(body)
      }
    }

    await app.register(openapiGlue, {
      specification: structuredClone(spec),
      // A WebSocket operation's handler answers plain requests; the upgrade goes to the delivery plugin.
      operationResolver: (operationId: string) => {
        const handler = serviceHandlers[operationId]
        if (!operations.get(operationId)?.websocket) return handler
        const accept = operationId === 'openProvisioningSocket' ? app.provisioning.accept : app.delivery.accept
        return { handler, wsHandler: (socket: WebSocket, request: FastifyRequest) => accept(socket, request) } as never
      },
      securityHandlers: { bearerAuth: (request: FastifyRequest) => app.auth.authenticate(request) },
    })
    const problems = [...operations.values()]
      .map((op) => (wiring.has(op.operationId) ? wiring.get(op.operationId) : `${op.operationId} has no route`))
      .filter((p): p is string => p !== undefined)
    if (problems.length) throw new Error(`security wiring: ${problems.join('; ')}`)
  },
  {
    name: 'openapi',
    dependencies: ['config', 'errors', 'auth', 'rate-limit', 'device-signature', 'delivery', 'provisioning'],
  },
)
