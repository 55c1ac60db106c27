import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { build, ciphertext, signUp, userWithDevice, type Api } from '../helper.js'
import { recordRequestSecrets } from '../log-capture.js'
import { connect, socketUrl } from '../message-socket.js'
import { ConfigError, loadConfig } from '../../lib/config.js'
import type { FastifyInstance } from 'fastify'

type Sample = { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus text exposition into samples (comments skipped). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (!m) throw new Error(`not an exposition line: ${line}`)
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
      )
      return { name: m[1], labels, value: Number(m[3]) }
    })
}

/** The one sample named `name` whose labels include `labels` (fails when there is none or several). */
function sample(tt: Test, samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  tt.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)}`)
  return found[0]?.value ?? NaN
}

const token = () => randomBytes(24).toString('hex')

// off-contract: /metrics is for Prometheus, outside openapi.yaml (README: Metrics).
async function scrape(app: FastifyInstance, secret?: string) {
  const headers = secret === undefined ? {} : { authorization: `Bearer ${secret}` }
  recordRequestSecrets('/metrics', headers)
  return app.inject({ method: 'GET', url: '/metrics', headers })
}

async function someTraffic(api: Api) {
  const user = await signUp(api) // createUser 201, login 200
  await api.post('/auth/login/', { email: user.email, password: 'not-the-password-1' }) // login 400
  await api.get('/auth/users/me/', { token: user.token }) // getMe 200
  await api.get('/no-such-path-4d1f/') // no route: 404
  return user
}

t.test('with neither METRICS_TOKEN nor METRICS_PORT, /metrics does not exist', async (tt) => {
  const { app } = await build(tt)
  tt.equal(app.metrics.enabled, false)
  const res = await scrape(app)
  tt.equal(res.statusCode, 404)
  tt.same(res.json(), { code: 'not_found', message: 'Not found.' })
})

// off-contract: /metrics is for Prometheus, outside openapi.yaml (README: Metrics).
t.test('METRICS_TOKEN: /metrics on the API port requires the token', async (tt) => {
  const secret = token()
  const { app, api } = await build(tt, { metricsToken: secret })
  tt.equal(app.metrics.enabled, true)

  for (const [why, auth] of [
    ['no header', undefined],
    ['wrong token', token()],
    ['token plus a byte', `${secret}x`],
  ] as const) {
    const res = await scrape(app, auth)
    tt.equal(res.statusCode, 401, why)
    tt.equal(res.json().code, 'not_authenticated', `${why}: the API's error shape`)
    tt.match(res.headers['www-authenticate'], /^Bearer /, `${why}: says how to authenticate`)
  }
  const basic = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Basic ${secret}` } })
  tt.equal(basic.statusCode, 401, 'the token under another scheme')

  await someTraffic(api)
  const res = await scrape(app, secret)
  tt.equal(res.statusCode, 200)
  tt.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  tt.equal(res.headers['cache-control'], 'no-store')
  const samples = parse(res.body)
  tt.equal(sample(tt, samples, 'http_requests_total', { operationId: 'createUser', status: '201' }), 1)
  tt.equal(sample(tt, samples, 'http_requests_total', { operationId: 'login', status: '200' }), 1)
  tt.equal(sample(tt, samples, 'http_requests_total', { operationId: 'login', status: '400' }), 1)
  tt.equal(sample(tt, samples, 'http_requests_total', { operationId: 'getMe', status: '200' }), 1)
  tt.equal(
    sample(tt, samples, 'http_requests_total', { operationId: 'unknown', status: '404' }),
    1,
    'no route: one bounded label',
  )
  tt.equal(
    sample(tt, samples, 'http_requests_total', { operationId: '/metrics', status: '401' }),
    4,
    'the refused scrapes',
  )
  tt.notOk(res.body.includes('no-such-path'), 'never a raw URL as a label')
  tt.notOk(res.body.includes(secret), 'the token is not echoed')

  // The histogram: cumulative buckets up to +Inf, whose count is the request count.
  tt.equal(sample(tt, samples, 'http_request_duration_seconds_count', { operationId: 'login', status: '400' }), 1)
  tt.equal(
    sample(tt, samples, 'http_request_duration_seconds_bucket', { operationId: 'login', status: '400', le: '+Inf' }),
    1,
  )
  const buckets = samples.filter(
    (s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.operationId === 'createUser',
  )
  tt.ok(buckets.length > 5, 'several buckets')
  tt.same(
    buckets.map((b) => b.value),
    [...buckets.map((b) => b.value)].sort((a, b) => a - b),
    'cumulative',
  )
  tt.ok(
    sample(tt, samples, 'http_request_duration_seconds_sum', { operationId: 'createUser', status: '201' }) > 0,
    'time was measured',
  )

  tt.ok(sample(tt, samples, 'process_cpu_user_seconds_total') > 0, 'default process metrics')
  tt.ok(sample(tt, samples, 'db_pool_connections', { state: 'max' }) >= 1, 'pool size')
  sample(tt, samples, 'db_pool_connections', { state: 'used' })
  sample(tt, samples, 'db_pool_connections', { state: 'free' })
  tt.equal(sample(tt, samples, 'db_pool_connections', { state: 'pending' }), 0)
  tt.equal(sample(tt, samples, 'websocket_connections_active'), 0, 'no socket open')
})

t.test('messages_queued counts what recipients have not deleted yet', async (tt) => {
  const secret = token()
  const { app, api } = await build(tt, { metricsToken: secret })
  const queued = async () => sample(tt, parse((await scrape(app, secret)).body), 'messages_queued')
  tt.equal(await queued(), 0)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  for (let i = 0; i < 3; i++) {
    const sent = await api.post(
      `/messages/${alice.registrationId}/`,
      { recipient: bob.email, message: ciphertext(bob.registrationId) },
      { token: alice.token },
    )
    tt.equal(sent.status, 201, 'sent')
  }
  tt.equal(await queued(), 3)
})

t.test('websocket_connections_active follows the open message sockets', async (tt) => {
  const secret = token()
  const { app, api } = await build(tt, { metricsToken: secret })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const open = async () => sample(tt, parse((await scrape(app, secret)).body), 'websocket_connections_active')
  tt.equal(await open(), 0)
  const bob = await userWithDevice(api)
  const socket = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  tt.equal(await open(), 1, 'one open')
  socket.ws.close()
  await socket.closed
  // The server sees the close frame a moment after the client does.
  for (let i = 0; i < 50 && (await open()) !== 0; i++) await new Promise((r) => setTimeout(r, 20))
  tt.equal(await open(), 0, 'none once closed')
})

// off-contract: the metrics listener is a separate server that openapi.yaml does not describe.
t.test('METRICS_PORT: served on its own listener only, token still required when set', async (tt) => {
  const secret = token()
  const { app, api } = await build(tt, { metricsPort: 0, metricsToken: secret })
  await app.ready()
  const address = app.metrics.address()
  tt.ok(address, 'listening')
  tt.equal(address!.address, '127.0.0.1', 'METRICS_HOST defaults to loopback')
  const base = `http://127.0.0.1:${address!.port}`

  tt.equal((await scrape(app, secret)).statusCode, 404, 'not on the API port')
  await someTraffic(api)

  const refused = await fetch(`${base}/metrics`)
  tt.equal(refused.status, 401)
  tt.equal(((await refused.json()) as { code: string }).code, 'not_authenticated')
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${secret}` } })
  tt.equal(res.status, 200)
  tt.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const samples = parse(await res.text())
  tt.equal(sample(tt, samples, 'http_requests_total', { operationId: 'createUser', status: '201' }), 1)
  tt.equal(
    sample(tt, samples, 'http_requests_total', { operationId: 'unknown', status: '404' }),
    2,
    'the 404 above and the scrape on the API port',
  )

  const other = await fetch(`${base}/elsewhere`)
  tt.equal(other.status, 404)
  tt.same(await other.json(), { code: 'not_found', message: 'Not found.' })
  const post = await fetch(`${base}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${secret}` } })
  tt.equal(post.status, 405)
  tt.equal(post.headers.get('allow'), 'GET')

  await app.close()
  await tt.rejects(fetch(`${base}/metrics`), 'closed with the app')
})

// off-contract: the metrics listener is a separate server that openapi.yaml does not describe.
t.test('METRICS_PORT without a token: open on its (loopback) listener', async (tt) => {
  const { app } = await build(tt, { metricsPort: 0 })
  await app.ready()
  const res = await fetch(`http://127.0.0.1:${app.metrics.address()!.port}/metrics`)
  tt.equal(res.status, 200)
  tt.match(await res.text(), /^# HELP /m)
})

t.test('a taken METRICS_PORT stops the start-up', async (tt) => {
  const first = await build(tt, { metricsPort: 0 })
  await first.app.ready()
  const { app } = await build(tt, { metricsPort: first.app.metrics.address()!.port })
  await tt.rejects(
    async () => {
      await app.ready()
    },
    { code: 'EADDRINUSE' },
  )
})

t.test('configuration', async (tt) => {
  const c = loadConfig({ METRICS_TOKEN: 'a'.repeat(32), METRICS_PORT: '9100', METRICS_HOST: '0.0.0.0' })
  tt.equal(c.metricsToken, 'a'.repeat(32))
  tt.equal(c.metricsPort, 9100)
  tt.equal(c.metricsHost, '0.0.0.0')
  const d = loadConfig({})
  tt.equal(d.metricsToken, undefined)
  tt.equal(d.metricsPort, undefined)
  tt.equal(d.metricsHost, '127.0.0.1')
  for (const [env, name] of [
    [{ METRICS_TOKEN: 'short-tok' }, 'METRICS_TOKEN'],
    [{ METRICS_PORT: 'x' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
  ] as const) {
    tt.throws(() => loadConfig(env), ConfigError)
    try {
      loadConfig(env)
    } catch (err) {
      tt.ok((err as Error).message.startsWith(name), (err as Error).message)
    }
  }
  try {
    loadConfig({ METRICS_TOKEN: 'short-tok' })
  } catch (err) {
    tt.notOk((err as Error).message.includes('short-tok'), 'a refused token is not echoed')
  }
})
