// A request refused before its body is read gets its answer, with `Connection: close`, and not a
// connection reset: the server reads and discards the rest of the body (up to a bound) before it
// closes. Over a raw socket, as a client uploading 20 MB would see it.
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { build, signUp } from '../helper.js'
import { recordRequestSecrets } from '../log-capture.js'
import { checkAgainstSpec } from '../spec-check.js'

const MB = 1024 * 1024

type Outcome = {
  /** Everything the server sent. */
  received: string
  /** Body bytes the client wrote before it stopped (all of them, or the server closed first). */
  sent: number
  /** The socket error the client saw, if any (ECONNRESET, EPIPE). */
  error?: string
  /** Whether the server's answer was complete before any error. */
  answeredBeforeError: boolean
}

/**
 * Sends `head` and then `size` bytes of body as fast as the socket takes them (a chunked body when
 * `chunked`), reading all the while. `stopOnAnswer`: stop sending once the answer is in (as curl
 * does); otherwise send the whole body first (as a naive client does).
 */
function upload(port: number, head: string, size: number, opts: { stopOnAnswer: boolean; chunked?: boolean }) {
  return new Promise<Outcome>((done) => {
    // Half-open allowed: a client that sends everything keeps writing after the server's answer and FIN.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: !opts.stopOnAnswer })
    const outcome: Outcome = { received: '', sent: 0, answeredBeforeError: false }
    const answered = () => {
      const end = outcome.received.indexOf('\r\n\r\n')
      if (end < 0) return false
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(outcome.received)?.[1] ?? 0)
      return outcome.received.length >= end + 4 + length
    }
    let stopped = false
    socket.on('data', (d) => {
      outcome.received += d
      if (answered() && opts.stopOnAnswer && !stopped) {
        stopped = true
        socket.end()
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      outcome.error = err.code
      outcome.answeredBeforeError = answered()
    })
    socket.on('close', () => done(outcome))
    socket.write(head)
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const pump = () => {
      while (!stopped && !socket.destroyed && outcome.sent < size) {
        const piece = opts.chunked
          ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
          : chunk
        outcome.sent += chunk.length
        if (!socket.write(piece)) return void socket.once('drain', pump)
      }
      if (!stopped && !socket.destroyed && !opts.chunked) {
        stopped = true
        socket.end()
      }
    }
    pump()
  })
}

/** The answer (the first one) as status, headers and body; checked against openapi.yaml. */
function answerOf(tt: Test, method: string, path: string, received: string) {
  const [head, ...rest] = received.split('\r\n\r\n')
  const [statusLine, ...headerLines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const at = line.indexOf(':')
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim()
  }
  const text = rest.join('\r\n\r\n').slice(0, Number(headers['content-length'] ?? 0))
  const status = Number(statusLine.split(' ')[1])
  const body = JSON.parse(text)
  for (const p of checkAgainstSpec(method, path, { status, contentType: headers['content-type'], body, headers }))
    tt.fail(`contract: ${p}`)
  return { status, headers, body, responses: received.split('HTTP/1.1 ').length - 1 }
}

/** A request head: `headers` are complete lines (each ending in CRLF). */
const requestHead = (path: string, headers: string) => `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`
const json = (path: string, size: number, extra = '') =>
  requestHead(path, `Content-Type: application/json\r\n${extra}Content-Length: ${size}\r\n`)

t.test('a 20 MB upload without a token gets its 401 with Connection: close, whole, without a reset', async (tt) => {
  const { app } = await build(tt)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const path = '/messages/1111/'

  for (const stopOnAnswer of [false, true]) {
    const what = stopOnAnswer ? 'a client that stops once answered' : 'a client that sends everything first'
    const outcome = await upload(port, json(path, 20 * MB), 20 * MB, { stopOnAnswer })
    tt.equal(outcome.error, undefined, `${what}: no socket error (got ${outcome.error})`)
    const answer = answerOf(tt, 'POST', path, outcome.received)
    tt.equal(answer.status, 401, what)
    tt.equal(answer.body.code, 'not_authenticated')
    tt.equal(answer.headers.connection, 'close', 'Connection: close')
    tt.equal(answer.responses, 1, 'one answer and nothing after it')
    if (!stopOnAnswer) tt.equal(outcome.sent, 20 * MB, 'the whole body was taken (read and discarded)')
  }
})

t.test('413, 415 and 429 refusals before the body arrive the same way', async (tt) => {
  const { app, api } = await build(tt, { throttleAnon: '2/hour' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const user = await signUp(api)
  const auth = `Authorization: Bearer ${user.token}\r\n`
  recordRequestSecrets('/messages/1111/', { authorization: `Bearer ${user.token}` })
  const cases: [string, string, number, string][] = [
    ['413: over the body limit', json('/messages/1111/', 20 * MB, auth), 413, 'request_too_large'],
    [
      '415: not JSON',
      requestHead('/messages/1111/', `Content-Type: text/plain\r\n${auth}Content-Length: ${20 * MB}\r\n`),
      415,
      'unsupported_media_type',
    ],
    // THROTTLE_ANON 2/hour: the sign-up and login above used this address's two calls.
    ['429: throttled', json('/auth/login/', 20 * MB), 429, 'throttled'],
  ]
  for (const [what, head, status, code] of cases) {
    const path = /^POST (\S+)/.exec(head)![1]
    const outcome = await upload(port, head, 20 * MB, { stopOnAnswer: false })
    tt.equal(outcome.error, undefined, `${what}: no socket error (got ${outcome.error})`)
    const answer = answerOf(tt, 'POST', path, outcome.received)
    tt.equal(answer.status, status, what)
    tt.equal(answer.body.code, code)
    tt.equal(answer.headers.connection, 'close')
    tt.equal(answer.responses, 1)
  }
})

t.test('the drain is bounded: an endless body is cut once the answer is out', async (tt) => {
  const { app } = await build(tt)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const path = '/messages/1111/'
  const head = requestHead(path, 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n')
  const total = 256 * MB
  const outcome = await upload(port, head, total, { stopOnAnswer: false, chunked: true })
  const answer = answerOf(tt, 'POST', path, outcome.received)
  tt.equal(answer.status, 401, 'the answer arrived first')
  tt.equal(answer.headers.connection, 'close')
  tt.ok(outcome.sent < total, `the server closed before taking it all (${outcome.sent} of ${total} bytes sent)`)
})
