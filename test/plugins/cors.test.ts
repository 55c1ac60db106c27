import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, PASSWORD, signUp, uniqueEmail } from '../helper.js'
import { ConfigError, loadConfig } from '../../lib/config.js'

const APP = 'https://app.example.com'

// off-contract: a preflight answer is a bare 204 that openapi.yaml does not describe, so it goes through inject.
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
  async (tt) => {
    const { api } = await build(tt)
    const headers = { origin: APP, 'access-control-request-method': 'POST' }
    // A POST-only path (/auth/users/ answers GET too since the account surface).
    const pre = await api.request('OPTIONS', '/auth/login/', undefined, { headers })
    tt.equal(pre.status, 405)
    tt.same(pre.body, { code: 'method_not_allowed', message: 'Method OPTIONS is not allowed here.' })
    tt.equal(pre.headers.allow, 'POST')
    tt.same(corsHeaders(pre.headers), [], 'no access-control-* header at all')

    const unknownPath = await api.request('OPTIONS', '/no-such-path/', undefined, { headers })
    tt.equal(unknownPath.status, 404)
    tt.equal(unknownPath.body.code, 'not_found')
    tt.same(corsHeaders(unknownPath.headers), [])

    const user = await signUp(api)
    const get = await api.get('/auth/mfa/config/', { token: user.token, headers: { origin: APP } })
    tt.equal(get.status, 200)
    tt.same(corsHeaders(get.headers), [], 'a GET with an Origin is answered, but not readable by that page')
  },
)

t.test(
  'a listed origin: preflight admits exactly it, its methods and headers, for 600 s, without credentials',
  async (tt) => {
    const { app } = await build(tt, { corsAllowedOrigins: [APP] })
    for (const [url, method] of [
      ['/auth/users/', 'POST'],
      ['/auth/mfa/config/', 'GET'],
      ['/device/', 'DELETE'],
    ]) {
      const res = await preflight(app, APP, url, method)
      tt.equal(res.statusCode, 204, url)
      tt.equal(res.body, '')
      tt.equal(res.headers['access-control-allow-origin'], APP)
      tt.same(list(res.headers['access-control-allow-methods']), ['DELETE', 'GET', 'POST'])
      tt.same(list(res.headers['access-control-allow-headers']), ['authorization', 'content-type', 'signature'])
      tt.equal(res.headers['access-control-max-age'], '600')
      tt.equal(res.headers['access-control-allow-credentials'], undefined, 'bearer tokens, never cookies')
      // The answer depends on Origin: a shared cache must not hand it to another origin.
      tt.match(String(res.headers.vary), /\bOrigin\b/)
    }
  },
)

t.test(
  'a listed origin is matched exactly: other, look-alike and other-scheme origins are not admitted',
  async (tt) => {
    const { app, api } = await build(tt, { corsAllowedOrigins: [APP] })
    const user = await signUp(api)
    for (const origin of [
      'https://evil.example',
      'http://app.example.com',
      'https://app.example.com.evil.example',
      'https://x.app.example.com',
      'null',
    ]) {
      const pre = await preflight(app, origin)
      tt.equal(pre.headers['access-control-allow-origin'], undefined, `preflight from ${origin}`)
      tt.equal(pre.headers['access-control-allow-credentials'], undefined)
      const get = await api.get('/auth/mfa/config/', { token: user.token, headers: { origin } })
      tt.equal(get.status, 200)
      tt.equal(get.headers['access-control-allow-origin'], undefined, `GET from ${origin}`)
    }
  },
)

t.test(
  'actual answers to a listed origin carry allow-origin and expose retry-after, errors and 429 included',
  async (tt) => {
    const { api } = await build(tt, { corsAllowedOrigins: [APP], throttleAnon: '2/hour' })
    const headers = { origin: APP }
    const created = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD }, { headers })
    const login = await api.post('/auth/login/', { email: created.body.email, password: PASSWORD }, { headers })
    const throttled = await api.post('/auth/login/', { email: created.body.email, password: PASSWORD }, { headers })
    tt.same([created.status, login.status, throttled.status], [201, 200, 429])
    tt.equal(throttled.body.code, 'throttled')
    tt.ok(Number(throttled.headers['retry-after']) > 0, 'the 429 says when to retry')
    const token = login.body.auth_token as string
    const me = await api.get('/auth/users/me/', { token, headers })
    tt.equal(me.status, 200)
    const anonymous = await api.get('/auth/users/me/', { headers })
    tt.equal(anonymous.status, 401)
    for (const [name, res] of Object.entries({ created, login, throttled, me, anonymous })) {
      tt.equal(res.headers['access-control-allow-origin'], APP, name)
      tt.same(
        list(res.headers['access-control-expose-headers']),
        ['retry-after'],
        `${name}: a browser app may read Retry-After`,
      )
      tt.equal(res.headers['access-control-allow-credentials'], undefined)
    }
  },
)

t.test('"*" admits any origin with a literal *, never echoing it and never with credentials', async (tt) => {
  const { app, api } = await build(tt, { corsAllowedOrigins: ['*'] })
  const user = await signUp(api)
  for (const origin of [APP, 'https://anything.example', 'null']) {
    const pre = await preflight(app, origin)
    tt.equal(pre.statusCode, 204)
    tt.equal(pre.headers['access-control-allow-origin'], '*', `preflight from ${origin}`)
    tt.same(list(pre.headers['access-control-allow-methods']), ['DELETE', 'GET', 'POST'])
    tt.equal(pre.headers['access-control-allow-credentials'], undefined)
    const get = await api.get('/auth/mfa/config/', { token: user.token, headers: { origin } })
    tt.equal(get.headers['access-control-allow-origin'], '*', `GET from ${origin}`)
    tt.same(list(get.headers['access-control-expose-headers']), ['retry-after'])
    const post = await api.post('/auth/login/', { email: user.email, password: PASSWORD }, { headers: { origin } })
    tt.equal(post.status, 200)
    tt.equal(post.headers['access-control-allow-origin'], '*', `POST from ${origin}`)
  }
})

t.test(
  'CORS_ALLOWED_ORIGINS: a comma/space list of origins, "*", or empty; anything else is a ConfigError',
  async (tt) => {
    tt.same(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).corsAllowedOrigins, [
      'https://a.example',
      'https://b.example',
    ])
    tt.same(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://a.example http://localhost:5173' }).corsAllowedOrigins, [
      'https://a.example',
      'http://localhost:5173',
    ])
    tt.same(loadConfig({ CORS_ALLOWED_ORIGINS: '*' }).corsAllowedOrigins, ['*'])
    tt.same(loadConfig({ CORS_ALLOWED_ORIGINS: '' }).corsAllowedOrigins, [])
    tt.same(loadConfig({}).corsAllowedOrigins, [])
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
      tt.ok(error instanceof ConfigError, `${JSON.stringify(value)} is refused`)
      tt.match((error as Error)?.message, /^CORS_ALLOWED_ORIGINS: /, 'the message names the variable')
    }
  },
)
