import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, PASSWORD, signUp, uniqueEmail } from '../helper.js'
import { ConfigError, loadConfig } from '../../plugins/config.js'

const APP = 'https://app.example.com'

// A preflight answer is a bare 204 that openapi.yaml does not describe, so it goes through inject.
const preflight = (app: FastifyInstance, origin: string, url = '/auth/users/', method = 'POST') =>
  app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,content-type,signature',
    },
  })

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((h) => h.startsWith('access-control-'))
const list = (value: unknown) => String(value).split(/,\s*/).sort()

t.test(
  'without CORS_ALLOWED_ORIGINS a preflight is 405 in the error shape and nothing admits the origin',
  async (t) => {
    const { api } = await build(t)
    const headers = { origin: APP, 'access-control-request-method': 'POST' }
    const pre = await api.request('OPTIONS', '/auth/users/', undefined, { headers })
    t.equal(pre.status, 405)
    t.same(pre.body, { code: 'method_not_allowed', message: 'Method OPTIONS is not allowed here.' })
    t.equal(pre.headers.allow, 'POST')
    t.same(corsHeaders(pre.headers), [], 'no access-control-* header at all')

    const unknownPath = await api.request('OPTIONS', '/no-such-path/', undefined, { headers })
    t.equal(unknownPath.status, 404)
    t.equal(unknownPath.body.code, 'not_found')
    t.same(corsHeaders(unknownPath.headers), [])

    const user = await signUp(api)
    const get = await api.get('/auth/mfa/config/', { token: user.token, headers: { origin: APP } })
    t.equal(get.status, 200)
    t.same(corsHeaders(get.headers), [], 'a GET with an Origin is answered, but not readable by that page')
  },
)

t.test(
  'a listed origin: preflight admits exactly it, its methods and headers, for 600 s, without credentials',
  async (t) => {
    const { app } = await build(t, { corsAllowedOrigins: [APP] })
    for (const [url, method] of [
      ['/auth/users/', 'POST'],
      ['/auth/mfa/config/', 'GET'],
      ['/device/', 'DELETE'],
    ]) {
      const res = await preflight(app, APP, url, method)
      t.equal(res.statusCode, 204, url)
      t.equal(res.body, '')
      t.equal(res.headers['access-control-allow-origin'], APP)
      t.same(list(res.headers['access-control-allow-methods']), ['DELETE', 'GET', 'POST'])
      t.same(list(res.headers['access-control-allow-headers']), ['authorization', 'content-type', 'signature'])
      t.equal(res.headers['access-control-max-age'], '600')
      t.equal(res.headers['access-control-allow-credentials'], undefined, 'bearer tokens, never cookies')
      // The answer depends on Origin: a shared cache must not hand it to another origin.
      t.match(String(res.headers.vary), /\bOrigin\b/)
    }
  },
)

t.test('a listed origin is matched exactly: other, look-alike and other-scheme origins are not admitted', async (t) => {
  const { app, api } = await build(t, { corsAllowedOrigins: [APP] })
  const user = await signUp(api)
  for (const origin of [
    'https://evil.example',
    'http://app.example.com',
    'https://app.example.com.evil.example',
    'https://x.app.example.com',
    'null',
  ]) {
    const pre = await preflight(app, origin)
    t.equal(pre.headers['access-control-allow-origin'], undefined, `preflight from ${origin}`)
    t.equal(pre.headers['access-control-allow-credentials'], undefined)
    const get = await api.get('/auth/mfa/config/', { token: user.token, headers: { origin } })
    t.equal(get.status, 200)
    t.equal(get.headers['access-control-allow-origin'], undefined, `GET from ${origin}`)
  }
})

t.test(
  'actual answers to a listed origin carry allow-origin and expose retry-after, errors and 429 included',
  async (t) => {
    const { api } = await build(t, { corsAllowedOrigins: [APP], throttleAnon: '2/hour' })
    const headers = { origin: APP }
    const created = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD }, { headers })
    const login = await api.post('/auth/login/', { email: created.body.email, password: PASSWORD }, { headers })
    const throttled = await api.post('/auth/login/', { email: created.body.email, password: PASSWORD }, { headers })
    t.same([created.status, login.status, throttled.status], [201, 200, 429])
    t.equal(throttled.body.code, 'throttled')
    t.ok(Number(throttled.headers['retry-after']) > 0, 'the 429 says when to retry')
    const token = login.body.auth_token as string
    const me = await api.get('/auth/users/me/', { token, headers })
    t.equal(me.status, 200)
    const anonymous = await api.get('/auth/users/me/', { headers })
    t.equal(anonymous.status, 401)
    for (const [name, res] of Object.entries({ created, login, throttled, me, anonymous })) {
      t.equal(res.headers['access-control-allow-origin'], APP, name)
      t.same(
        list(res.headers['access-control-expose-headers']),
        ['retry-after'],
        `${name}: a browser app may read Retry-After`,
      )
      t.equal(res.headers['access-control-allow-credentials'], undefined)
    }
  },
)

t.test('"*" admits any origin with a literal *, never echoing it and never with credentials', async (t) => {
  const { app, api } = await build(t, { corsAllowedOrigins: ['*'] })
  const user = await signUp(api)
  for (const origin of [APP, 'https://anything.example', 'null']) {
    const pre = await preflight(app, origin)
    t.equal(pre.statusCode, 204)
    t.equal(pre.headers['access-control-allow-origin'], '*', `preflight from ${origin}`)
    t.same(list(pre.headers['access-control-allow-methods']), ['DELETE', 'GET', 'POST'])
    t.equal(pre.headers['access-control-allow-credentials'], undefined)
    const get = await api.get('/auth/mfa/config/', { token: user.token, headers: { origin } })
    t.equal(get.headers['access-control-allow-origin'], '*', `GET from ${origin}`)
    t.same(list(get.headers['access-control-expose-headers']), ['retry-after'])
    const post = await api.post('/auth/login/', { email: user.email, password: PASSWORD }, { headers: { origin } })
    t.equal(post.status, 200)
    t.equal(post.headers['access-control-allow-origin'], '*', `POST from ${origin}`)
  }
})

t.test(
  'CORS_ALLOWED_ORIGINS: a comma/space list of origins, "*", or empty; anything else is a ConfigError',
  async (t) => {
    t.same(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).corsAllowedOrigins, [
      'https://a.example',
      'https://b.example',
    ])
    t.same(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://a.example http://localhost:5173' }).corsAllowedOrigins, [
      'https://a.example',
      'http://localhost:5173',
    ])
    t.same(loadConfig({ CORS_ALLOWED_ORIGINS: '*' }).corsAllowedOrigins, ['*'])
    t.same(loadConfig({ CORS_ALLOWED_ORIGINS: '' }).corsAllowedOrigins, [])
    t.same(loadConfig({}).corsAllowedOrigins, [])
    // A browser's Origin never has a path, so "https://a.example/" could never match: refused, not ignored.
    for (const value of [
      'not a url',
      'https://a.example/',
      'https://a.example/app',
      'ftp://a.example',
      'a.example',
      'https://a.example, *.example',
    ]) {
      let error: unknown
      try {
        loadConfig({ CORS_ALLOWED_ORIGINS: value })
      } catch (err) {
        error = err
      }
      t.ok(error instanceof ConfigError, `${JSON.stringify(value)} is refused`)
      t.match((error as Error)?.message, /^CORS_ALLOWED_ORIGINS: /, 'the message names the variable')
    }
  },
)
