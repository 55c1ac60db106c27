// plugins/openapi.ts moves the security check fastify-openapi-glue puts in preHandler to onRequest.
// These tests pin the glue's behaviour that the move relies on, and show that the app refuses to
// start when the glue hands over routes wired any other way.
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import openapiGlue from 'fastify-openapi-glue'
import { checkAgainstSpec } from '../spec-check.js'
import t, { type Test } from 'tap'
import type { buildApp as BuildApp } from '../../app.js'
import { loadConfig } from '../../lib/config.js'
import { database, freshPostgresUrl } from '../helper.js'

const miniSpec = {
  openapi: '3.0.3',
  info: { title: 'wiring', version: '1' },
  components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/secure': {
      get: { operationId: 'secure', security: [{ bearerAuth: [] }], responses: { 200: { description: 'ok' } } },
    },
    '/open': { get: { operationId: 'open', responses: { 200: { description: 'ok' } } } },
  },
}

t.test(
  "fastify-openapi-glue puts an operation's security check in preHandler, and nothing in onRequest",
  async (tt) => {
    const app = Fastify({ logger: false })
    tt.teardown(() => app.close())
    const routes = new Map<string, RouteOptions>()
    app.addHook('onRoute', (route) => {
      routes.set((route.schema as { operationId: string }).operationId, { ...route })
    })
    const calls: string[] = []
    await app.register(openapiGlue, {
      specification: miniSpec,
      serviceHandlers: { secure: async () => 'secure', open: async () => 'open' },
      securityHandlers: {
        bearerAuth: async (request: { url: string }) => {
          calls.push(request.url)
        },
      },
    })
    await app.ready()
    const secure = routes.get('secure')!
    tt.type(secure.preHandler, 'function', 'the secured operation has one preHandler function')
    tt.equal(secure.onRequest, undefined, 'and no onRequest hook')
    tt.equal(secure.preValidation, undefined, 'and no preValidation hook')
    tt.equal(routes.get('open')!.preHandler, undefined, 'the open operation has no preHandler')
    tt.equal(routes.get('open')!.onRequest, undefined, 'nor an onRequest hook')

    // That preHandler is the security check: it runs the security handler, and nothing else does.
    await (secure.preHandler as (req: unknown, reply: unknown) => Promise<void>)({ url: '/probe', log: app.log }, {})
    tt.same(calls, ['/probe'], 'calling the preHandler runs the security handler')
    // off-contract: a bare fastify app with a stand-in spec, not this server's contract.
    const res = await app.inject({ method: 'GET', url: '/open' })
    tt.equal(res.statusCode, 200)
    tt.same(calls, ['/probe'], 'an open operation does not run it')
  },
)

/** buildApp with fastify-openapi-glue replaced by `glue` (the rest of the app as it is). */
async function buildWithGlue(tt: Test, glue: unknown): Promise<FastifyInstance> {
  // Mocks apply to the module imported, not to what it imports: the plugin gets the glue, the app the plugin.
  const openapi = await tt.mockImport('../../plugins/openapi.js', { 'fastify-openapi-glue': glue })
  const { buildApp } = await tt.mockImport<{ buildApp: typeof BuildApp }>('../../app.js', {
    '../../plugins/openapi.js': openapi,
  })
  const databaseUrl = database === 'postgres' ? await freshPostgresUrl(tt) : ':memory:'
  const config = loadConfig({}, { databaseUrl, secretKey: 'test-secret-key-that-is-long-enough-0123456789' })
  built = undefined
  try {
    const app = await buildApp(config, { logger: false })
    tt.teardown(() => app.close())
    return app
  } catch (err) {
    await (built as FastifyInstance | undefined)?.close().catch(() => {})
    throw err
  }
}

// The app a failed build leaves behind (the fake glue sees it), closed so that its database goes too.
let built: FastifyInstance | undefined

/** The real glue, with each route it makes changed by `change` on its way to fastify. */
function alteredGlue(change: (route: RouteOptions) => unknown) {
  const plugin = async (instance: FastifyInstance, opts: Record<string, unknown>) => {
    built = instance
    const route = instance.route.bind(instance)
    instance.route = ((options: RouteOptions) =>
      change(options) === 'drop' ? instance : route(options)) as typeof instance.route
    // The real plugin's function, without its fastify-plugin wrapper (it is registered in our context).
    await (openapiGlue as unknown as (i: FastifyInstance, o: unknown) => Promise<void>)(instance, opts)
  }
  return { default: plugin, fastifyOpenapiGlue: plugin }
}

t.test('the app starts with the glue as it is, every secured operation wired', async (tt) => {
  const app = await buildWithGlue(tt, await import('fastify-openapi-glue'))
  await app.ready()
  const res = await app.inject({ method: 'GET', url: '/auth/users/me/' })
  tt.equal(res.statusCode, 401)
  const answer = { status: res.statusCode, contentType: String(res.headers['content-type']), body: res.json() }
  tt.same(checkAgainstSpec('GET', '/auth/users/me/', { ...answer, headers: res.headers }), [], 'as the contract says')
})

t.test('the app refuses to start when the glue moves security out of preHandler', async (tt) => {
  for (const [what, change] of [
    [
      'into onRequest',
      (route: RouteOptions) => {
        if (route.preHandler) {
          route.onRequest = route.preHandler
          delete route.preHandler
        }
      },
    ],
    [
      'into preValidation',
      (route: RouteOptions) => {
        if (route.preHandler) {
          route.preValidation = route.preHandler
          delete route.preHandler
        }
      },
    ],
    ['away altogether', (route: RouteOptions) => void delete route.preHandler],
  ] as const) {
    await tt.rejects(
      buildWithGlue(tt, alteredGlue(change)),
      /^security wiring: .*getMe has security in openapi\.yaml but no authentication hook/,
      `security moved ${what}: start-up fails naming the operations`,
    )
  }
})

t.test('the app refuses to start when the glue leaves out an operation', async (tt) => {
  await tt.rejects(
    buildWithGlue(
      tt,
      alteredGlue((route) => ((route.schema as { operationId?: string }).operationId === 'getMe' ? 'drop' : undefined)),
    ),
    /^security wiring: getMe has no route$/,
  )
})
