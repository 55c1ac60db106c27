import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { prettyFactory } from 'pino-pretty'
import { buildApp } from '../../app.js'
import { loadConfig, type Config } from '../../lib/config.js'
import { loggerOptions, maskUrl } from '../../plugins/request-log.js'
import { encodeUid } from '../../lib/reset-tokens.js'
import { client, database, freshPostgresUrl, PASSWORD, uniqueEmail } from '../helper.js'

type Line = Record<string, unknown> & { level: number; msg: string }

/** The app on a fresh database, logging into an array: what a log shipper would read from stdout. */
async function logged(tt: Test, overrides: Partial<Config> = {}) {
  let databaseUrl: string
  if (database === 'postgres') databaseUrl = await freshPostgresUrl(tt)
  else {
    databaseUrl = join(tmpdir(), `request-log-${randomBytes(4).toString('hex')}.sqlite`)
    tt.teardown(() => {
      for (const s of ['', '-wal', '-shm']) rmSync(databaseUrl + s, { force: true })
    })
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
  tt.teardown(() => app.close())
  const lines = () => raw.map((l) => JSON.parse(l) as Line) // every line is one JSON object
  const completed = () => lines().filter((l) => l.msg === 'request completed')
  // Requests go through the suite's client, so every answer is checked against openapi.yaml too.
  return { api: client(app, tt), raw, lines, completed }
}

t.test('one JSON line per request: request id, operationId, method, path, status, duration', async (tt) => {
  const { api, raw, lines, completed } = await logged(tt)
  const email = uniqueEmail()
  tt.equal((await api.post('/auth/users/', { email, password: PASSWORD })).status, 201)
  tt.equal((await api.post('/auth/login/', { email, password: 'not-the-password-9' })).status, 400)
  tt.equal((await api.get('/no-such-route-7c2e/')).status, 404)

  tt.ok(
    raw.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')),
    'one line each',
  )
  const done = completed()
  tt.equal(done.length, 3, 'one completion line per request')
  tt.equal(lines().filter((l) => l.msg === 'incoming request').length, 0, "no separate 'incoming request' line")
  tt.match(done[0], {
    level: 30,
    operationId: 'createUser',
    method: 'POST',
    url: '/auth/users/',
    statusCode: 201,
    remoteAddress: '127.0.0.1',
  })
  tt.match(done[1], { operationId: 'login', statusCode: 400 })
  tt.match(done[2], { operationId: 'unknown', method: 'GET', statusCode: 404 })
  for (const line of done) {
    tt.type(line.reqId, 'string', 'request id')
    tt.type(line.responseTime, 'number', 'duration in ms')
    tt.ok((line.responseTime as number) >= 0)
    tt.type(line.time, 'number')
  }
  tt.equal(new Set(done.map((l) => l.reqId)).size, 3, 'a request id each')
})

t.test('the reset token in a path is masked; headers and bodies are never logged', async (tt) => {
  const { api, raw, completed } = await logged(tt, { logLevel: 'trace' })
  const token = `ctoken-${randomBytes(12).toString('hex')}`
  const bearer = randomBytes(16).toString('hex')
  const password = `pw-${randomBytes(12).toString('hex')}`
  await api.get(`/auth/password/reset/confirm/${encodeUid(1)}/${token}/`)
  await api.get('/auth/users/me/', { token: bearer })
  await api.post('/auth/login/', { email: uniqueEmail(), password })
  const text = raw.join('')
  tt.notOk(text.includes(token), 'no reset token')
  tt.notOk(text.includes(bearer), 'no Authorization header')
  tt.notOk(text.includes(password), 'no body')
  const reset = completed().find((l) => l.operationId === 'resetPasswordPage')
  tt.equal(reset?.url, `/auth/password/reset/confirm/${encodeUid(1)}/[redacted]/`)
  tt.equal(maskUrl(`/auth/password/reset/confirm/MQ/${token}/?x=1`), '/auth/password/reset/confirm/MQ/[redacted]/?x=1')
  tt.equal(maskUrl('/messages/12/'), '/messages/12/', 'other paths as they are')
  tt.equal(
    maskUrl('/messages/12/websocket/?token=eyJ.a.b&x=1'),
    '/messages/12/websocket/?token=[redacted]&x=1',
    'a token in the query',
  )
  tt.equal(
    maskUrl('/x/?access_token=abc&API_KEY=k&code=123456#f'),
    '/x/?access_token=[redacted]&API_KEY=[redacted]&code=[redacted]#f',
  )
  tt.equal(maskUrl('/x/?page=2&q=a'), '/x/?page=2&q=a', 'other query parameters as they are')
})

t.test('LOG_LEVEL=warn drops the info lines', async (tt) => {
  const { api, lines } = await logged(tt, { logLevel: 'warn' })
  tt.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 201)
  tt.equal((await api.get('/nothing-here/')).status, 404)
  tt.same(
    lines().filter((l) => l.level < 40),
    [],
    'nothing below warn',
  )
  tt.equal(loadConfig({ LOG_LEVEL: 'warn' }).logLevel, 'warn', 'read from LOG_LEVEL')
})

t.test('pretty output only on a terminal', async (tt) => {
  const config = { logLevel: 'debug' as const }
  const tty = loggerOptions(config, { isTTY: true }) as { level: string; transport?: { target: string } }
  tt.equal(tty.transport?.target, 'pino-pretty', 'a terminal gets pino-pretty')
  tt.equal(tty.level, 'debug')
  const piped = loggerOptions(config, { isTTY: false }) as { transport?: unknown; stream?: unknown }
  tt.equal(piped.transport, undefined, 'piped: JSON lines')
  tt.equal((piped.stream as { fd?: number } | undefined)?.fd, 1, 'to stdout, written asynchronously')
  const stream = { write() {} }
  const given = loggerOptions(config, { stream, isTTY: true }) as { transport?: unknown; stream?: unknown }
  tt.equal(given.stream, stream, 'a given stream is written JSON, terminal or not')
  tt.equal(given.transport, undefined)

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
  tt.match(shown, /INFO.*request completed/)
  tt.match(shown, /operationId: "getMe"/)
  tt.match(shown, /statusCode: 200/)
})

t.test('a healthy probe is logged at debug, a failing one at info', async (tt) => {
  const { api, completed } = await logged(tt, { logLevel: 'debug' })
  tt.equal((await api.get('/health/live')).status, 200)
  tt.match(completed(), [{ level: 20, operationId: 'getLiveness', statusCode: 200 }])
  const quiet = await logged(tt, { logLevel: 'info' })
  tt.equal((await quiet.api.get('/health/live')).status, 200)
  tt.equal(quiet.completed().length, 0, 'nothing at info for a healthy probe')
  tt.equal((await quiet.api.post('/health/live')).status, 405)
  tt.equal(quiet.completed().length, 1, 'a refused one is logged')
})
