import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { WebSocketServer } from 'ws'
import { openSocket } from './message-socket.js'

// The test socket checks the HTTP answer to its upgrade like every other answer: a 101 or a refusal
// the contract does not allow must fail the test that opened it. Here a stand-in server breaks the
// contract on purpose and a recording stand-in for the test collects the failures.

function recorder() {
  const failures: string[] = []
  const teardowns: (() => unknown)[] = []
  return {
    failures,
    teardowns,
    t: { fail: (m: string) => void failures.push(m), teardown: (fn: () => unknown) => void teardowns.push(fn) },
  }
}

t.test('a 101 is checked: on an operation of the contract it passes, off the contract it fails', async (tt) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  tt.teardown(() => new Promise((ok) => wss.close(ok)))
  await new Promise((ok) => wss.once('listening', ok))
  const base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  for (const [path, expected] of [
    ['/messages/5/websocket/', []],
    ['/not-in-the-contract/', [/^contract: GET \/not-in-the-contract\/: no operation, and status 101$/]],
  ] as const) {
    const r = recorder()
    const socket = openSocket(r.t, base + path)
    tt.equal(await socket.refused, undefined, `${path}: upgraded`)
    tt.matchOnly(r.failures, expected, path)
    for (const fn of r.teardowns) await fn()
  }
})

t.test('a refused upgrade is checked with its headers: a 429 without Retry-After fails', async (tt) => {
  const server = createServer((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (req.url?.includes('/7/')) headers['retry-after'] = '30'
    res.writeHead(429, headers).end(JSON.stringify({ code: 'throttled', message: 'Request was throttled.' }))
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  tt.teardown(() => new Promise((ok) => server.close(ok)))
  const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  for (const [id, expected] of [
    [7, []],
    [8, [/^contract: openMessageSocket: 429: the Retry-After header is missing$/]],
  ] as const) {
    const r = recorder()
    const refusal = await openSocket(r.t, `${base}/messages/${id}/websocket/`).refused
    tt.equal(refusal?.status, 429)
    tt.matchOnly(r.failures, expected, `registration ${id}`)
    for (const fn of r.teardowns) await fn()
  }
})
