import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { prettyFactory } from 'pino-pretty'
import { buildApp } from '../../app.js'
import { loadConfig, type Config } from '../../plugins/config.js'
import { loggerOptions, maskUrl } from '../../plugins/request-log.js'
import { encodeUid } from '../../lib/reset-tokens.js'
import { database, freshPostgresUrl, PASSWORD, uniqueEmail } from '../helper.js'

type Line = Record<string, unknown> & { level: number; msg: string }

/** The app on a fresh database, logging into an array: what a log shipper would read from stdout. */
async function logged(t: Test, overrides: Partial<Config> = {}) {
  let databaseUrl: string
  if (database === 'postgres') databaseUrl = await freshPostgresUrl(t)
  else {
    databaseUrl = join(tmpdir(), `request-log-${randomBytes(4).toString('hex')}.sqlite`)
    t.teardown(() => ['', '-wal', '-shm'].forEach((s) => rmSync(databaseUrl + s, { force: true })))
  }
  const config = loadConfig(
    {},
    {
      databaseUrl,
      secretKey: 'test-secret-key-that-is-long-enough-0123456789',
      bcryptCost: 4,
      throttleAnon: 'off',
      ...overrides,
    },
  )
  const raw: string[] = []
  const app = await buildApp(config, { logStream: { write: (line: string) => void raw.push(line) } })
  t.teardown(() => app.close())
  const lines = () => raw.map((l) => JSON.parse(l) as Line) // every line is one JSON object
  const completed = () => lines().filter((l) => l.msg === 'request completed')
  return { app, raw, lines, completed }
}

t.test('one JSON line per request: request id, operationId, method, path, status, duration', async (t) => {
  const { app, raw, lines, completed } = await logged(t)
  const email = uniqueEmail()
  const created = await app.inject({ method: 'POST', url: '/auth/users/', payload: { email, password: PASSWORD } })
  t.equal(created.statusCode, 201)
  const refused = await app.inject({
    method: 'POST',
    url: '/auth/login/',
    payload: { email, password: 'not-the-password-9' },
  })
  t.equal(refused.statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/no-such-route-7c2e/' })).statusCode, 404)

  t.ok(
    raw.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')),
    'one line each',
  )
  const done = completed()
  t.equal(done.length, 3, 'one completion line per request')
  t.equal(lines().filter((l) => l.msg === 'incoming request').length, 0, "no separate 'incoming request' line")
  t.match(done[0], {
    level: 30,
    operationId: 'createUser',
    method: 'POST',
    url: '/auth/users/',
    statusCode: 201,
    remoteAddress: '127.0.0.1',
  })
  t.match(done[1], { operationId: 'login', statusCode: 400 })
  t.match(done[2], { operationId: 'unknown', method: 'GET', statusCode: 404 })
  for (const line of done) {
    t.type(line.reqId, 'string', 'request id')
    t.type(line.responseTime, 'number', 'duration in ms')
    t.ok((line.responseTime as number) >= 0)
    t.type(line.time, 'number')
  }
  t.equal(new Set(done.map((l) => l.reqId)).size, 3, 'a request id each')
})

t.test('the reset token in a path is masked; headers and bodies are never logged', async (t) => {
  const { app, raw, completed } = await logged(t, { logLevel: 'trace' })
  const token = `ctoken-${randomBytes(12).toString('hex')}`
  const bearer = randomBytes(16).toString('hex')
  const password = `pw-${randomBytes(12).toString('hex')}`
  await app.inject({ method: 'GET', url: `/auth/password/reset/confirm/${encodeUid(1)}/${token}/` })
  await app.inject({ method: 'GET', url: '/auth/users/me/', headers: { authorization: `Bearer ${bearer}` } })
  await app.inject({ method: 'POST', url: '/auth/login/', payload: { email: uniqueEmail(), password } })
  const text = raw.join('')
  t.notOk(text.includes(token), 'no reset token')
  t.notOk(text.includes(bearer), 'no Authorization header')
  t.notOk(text.includes(password), 'no body')
  const reset = completed().find((l) => l.operationId === 'resetPasswordPage')
  t.equal(reset?.url, `/auth/password/reset/confirm/${encodeUid(1)}/[redacted]/`)
  t.equal(maskUrl(`/auth/password/reset/confirm/MQ/${token}/?x=1`), '/auth/password/reset/confirm/MQ/[redacted]/?x=1')
  t.equal(maskUrl('/messages/12/'), '/messages/12/', 'other paths as they are')
  t.equal(
    maskUrl('/messages/12/websocket/?token=eyJ.a.b&x=1'),
    '/messages/12/websocket/?token=[redacted]&x=1',
    'a token in the query',
  )
  t.equal(
    maskUrl('/x/?access_token=abc&API_KEY=k&code=123456#f'),
    '/x/?access_token=[redacted]&API_KEY=[redacted]&code=[redacted]#f',
  )
  t.equal(maskUrl('/x/?page=2&q=a'), '/x/?page=2&q=a', 'other query parameters as they are')
})

t.test('LOG_LEVEL=warn drops the info lines', async (t) => {
  const { app, lines } = await logged(t, { logLevel: 'warn' })
  t.equal(
    (await app.inject({ method: 'POST', url: '/auth/users/', payload: { email: uniqueEmail(), password: PASSWORD } }))
      .statusCode,
    201,
  )
  t.equal((await app.inject({ method: 'GET', url: '/nothing-here/' })).statusCode, 404)
  t.same(
    lines().filter((l) => l.level < 40),
    [],
    'nothing below warn',
  )
  t.equal(loadConfig({ LOG_LEVEL: 'warn' }).logLevel, 'warn', 'read from LOG_LEVEL')
})

t.test('pretty output only on a terminal', async (t) => {
  const config = { logLevel: 'debug' as const }
  const tty = loggerOptions(config, { isTTY: true }) as { level: string; transport?: { target: string } }
  t.equal(tty.transport?.target, 'pino-pretty', 'a terminal gets pino-pretty')
  t.equal(tty.level, 'debug')
  const piped = loggerOptions(config, { isTTY: false }) as { transport?: unknown; stream?: unknown }
  t.equal(piped.transport, undefined, 'piped: JSON lines')
  t.equal((piped.stream as { fd?: number } | undefined)?.fd, 1, 'to stdout, written asynchronously')
  const stream = { write() {} }
  const given = loggerOptions(config, { stream, isTTY: true }) as { transport?: unknown; stream?: unknown }
  t.equal(given.stream, stream, 'a given stream is written JSON, terminal or not')
  t.equal(given.transport, undefined)

  // What the terminal shows for a completion line: readable, with the same fields.
  const line = JSON.stringify({
    level: 30,
    time: Date.now(),
    reqId: 'req-1',
    operationId: 'getMe',
    method: 'GET',
    url: '/auth/users/me/',
    statusCode: 200,
    responseTime: 1.5,
    msg: 'request completed',
  })
  const shown = prettyFactory({ colorize: false, ignore: 'pid,hostname' })(line)
  t.match(shown, /INFO.*request completed/)
  t.match(shown, /operationId: "getMe"/)
  t.match(shown, /statusCode: 200/)
})

t.test('a healthy probe is logged at debug, a failing one at info', async (t) => {
  const { app, completed } = await logged(t, { logLevel: 'debug' })
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200)
  t.match(completed(), [{ level: 20, operationId: 'getLiveness', statusCode: 200 }])
  const quiet = await logged(t, { logLevel: 'info' })
  t.equal((await quiet.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200)
  t.equal(quiet.completed().length, 0, 'nothing at info for a healthy probe')
  t.equal((await quiet.app.inject({ method: 'POST', url: '/health/live' })).statusCode, 405)
  t.equal(quiet.completed().length, 1, 'a refused one is logged')
})
