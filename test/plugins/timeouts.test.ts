import net from 'node:net'
import t, { type Test } from 'tap'
import type { Config } from '../../lib/config.js'
import { build, PASSWORD, uniqueEmail } from '../helper.js'

// Small timeouts so the server gives up quickly; every wait below has seconds of slack on top.
const REQUEST_TIMEOUT = 1
const CONNECTION_TIMEOUT = 3

async function listening(tt: Test, overrides: Partial<Config> = {}) {
  const built = await build(tt, {
    requestTimeout: REQUEST_TIMEOUT,
    connectionTimeout: CONNECTION_TIMEOUT,
    ...overrides,
  })
  await built.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...built, port: (built.app.server.address() as net.AddressInfo).port }
}

type Exchange = { data: string; closedByServer: boolean }

/**
 * Opens a raw connection, writes `sent`, and collects what comes back until the server closes the
 * socket or `deadlineSeconds` pass (then the client hangs up itself and closedByServer is false).
 */
function exchange(
  port: number,
  sent: string,
  deadlineSeconds: number,
  onData?: (data: string, socket: net.Socket) => void,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let data = ''
    const socket = net.connect(port, '127.0.0.1', () => sent && socket.write(sent))
    const deadline = setTimeout(() => {
      socket.destroy()
      resolve({ data, closedByServer: false })
    }, deadlineSeconds * 1000)
    socket.on('data', (chunk) => {
      data += chunk
      onData?.(data, socket)
    })
    socket.on('error', (err) => {
      clearTimeout(deadline)
      reject(err)
    })
    socket.on('close', () => {
      clearTimeout(deadline)
      resolve({ data, closedByServer: true })
    })
  })
}

type Parsed = { status: number; headers: Record<string, string>; body: string; rest: string }

/** One HTTP/1.1 response with a Content-Length body, and whatever bytes follow it. */
function parse(raw: string): Parsed | undefined {
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  const length = Number(headers['content-length'])
  const bodyStart = end + 4
  if (!Number.isInteger(length) || Buffer.byteLength(raw.slice(bodyStart)) < length) return undefined
  const body = Buffer.from(raw.slice(bodyStart)).subarray(0, length).toString()
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body,
    rest: Buffer.from(raw.slice(bodyStart)).subarray(length).toString(),
  }
}

function check408(tt: Test, got: Exchange) {
  tt.ok(got.closedByServer, 'the server closed the connection before the deadline')
  tt.match(got.data, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  const res = parse(got.data)
  tt.equal(res?.headers['content-type'], 'application/json; charset=utf-8')
  tt.equal(res?.headers.connection, 'close')
  tt.same(JSON.parse(res?.body ?? 'null'), { code: 'request_timeout', message: 'The request took too long to arrive.' })
  tt.equal(res?.rest, '', 'nothing after the one 408')
}

t.test('slow-loris: headers that stop arriving get 408 request_timeout and the connection is closed', async (tt) => {
  const { port } = await listening(tt)
  const got = await exchange(
    port,
    'GET /auth/mfa/config/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n',
    REQUEST_TIMEOUT + 4,
  )
  check408(tt, got)
})

t.test('a connection that never sends a request is answered 408 and closed too', async (tt) => {
  const { port } = await listening(tt)
  check408(tt, await exchange(port, '', REQUEST_TIMEOUT + 4))
})

t.test('a body shorter than its Content-Length gets 408 and closed; the handler never runs', async (tt) => {
  const { app, port } = await listening(tt)
  const email = uniqueEmail()
  const body = JSON.stringify({ email, password: PASSWORD })
  const head =
    'POST /auth/users/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${body.length + 50}\r\n\r\n`
  check408(tt, await exchange(port, head + body, REQUEST_TIMEOUT + 4))
  tt.equal((await app.db.knex('users').where({ email })).length, 0, 'no account from the incomplete request')
})

t.test('an idle keep-alive connection is closed after CONNECTION_TIMEOUT', async (tt) => {
  const { port } = await listening(tt)
  let first: Parsed | undefined
  const got = await exchange(
    port,
    'GET /no-such-path/ HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n',
    CONNECTION_TIMEOUT + 5,
    (data) => {
      first ??= parse(data)
    },
  )
  tt.equal(first?.status, 404, 'the request was answered')
  tt.equal(first?.headers.connection, 'keep-alive', 'and the connection kept open for another')
  tt.ok(got.closedByServer, `the server closed the idle connection within ${CONNECTION_TIMEOUT + 5} s`)
  tt.equal(first?.rest, '', 'silently: no 408 for a connection between requests')
})

t.test(
  'a complete request on a server with short timeouts works, also as a second request on one connection',
  async (tt) => {
    const { app, port } = await listening(tt)
    const email = uniqueEmail()
    const body = JSON.stringify({ email, password: PASSWORD })
    const post =
      'POST /auth/users/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    const second = 'GET /auth/mfa/config/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    let sentSecond = false
    const got = await exchange(port, post, REQUEST_TIMEOUT + 4, (data, socket) => {
      if (!sentSecond && parse(data)) {
        socket.write(second)
        sentSecond = true
      }
    })
    const created = parse(got.data)
    tt.equal(created?.status, 201)
    tt.equal(JSON.parse(created?.body ?? '{}').email, email)
    tt.equal((await app.db.knex('users').where({ email })).length, 1)
    const me = parse(created?.rest ?? '')
    tt.equal(me?.status, 401, 'the second request on the connection was answered too')
    tt.equal(JSON.parse(me?.body ?? '{}').code, 'not_authenticated')
    tt.ok(got.closedByServer, 'closed as the client asked')
  },
)

t.test('over a real socket, a Host outside ALLOWED_HOSTS is 400 invalid_host; an allowed one passes', async (tt) => {
  const { port } = await listening(tt, { allowedHosts: ['api.example.com'] })
  const ask = (host: string) =>
    exchange(port, `GET /auth/mfa/config/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 5)
  const evil = parse((await ask('evil.example')).data)
  tt.equal(evil?.status, 400)
  tt.same(JSON.parse(evil?.body ?? 'null'), { code: 'invalid_host', message: 'The Host header is not allowed.' })
  tt.equal(evil?.headers['content-type'], 'application/json; charset=utf-8')
  const allowed = parse((await ask('api.example.com:443')).data)
  tt.equal(allowed?.status, 401, 'past the host check, refused only for the missing token')
  tt.equal(JSON.parse(allowed?.body ?? '{}').code, 'not_authenticated')
})
