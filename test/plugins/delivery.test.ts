import t from 'tap'
import WebSocket from 'ws'
import { connectMessages, MessageSocketClosed } from '../../sdk/index.js'
import { build, ciphertext, deviceBody, signUp, userWithDevice, type Api } from '../helper.js'
import { signatureHeader, signingKeyPair } from '../signing.js'
import { connect, openSocket, socketUrl, validateAckFrame, type Message } from '../message-socket.js'
import type { Config } from '../../lib/config.js'

// Push delivery over the message socket on one instance, on this run's database. Every frame the
// server sends is checked against asyncapi.yaml, every HTTP refusal against openapi.yaml.

type T = Parameters<typeof build>[0]

async function serve(tt: T, overrides: Partial<Config> = {}) {
  const { app, api } = await build(tt, overrides)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, api, address }
}

async function send(
  api: Api,
  from: { token: string; registrationId: number },
  to: { email: string; registrationId: number },
  body?: string,
) {
  const res = await api.post(
    `/messages/${from.registrationId}/`,
    { recipient: to.email, message: ciphertext(to.registrationId, body) },
    { token: from.token },
  )
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${res.text}`)
  return res.body as Message
}

t.test('the upgrade is refused before it happens, as an HTTP answer from the spec', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const deviceless = await signUp(api)
  const url = socketUrl(address, bob.registrationId)
  const cases: [string, Parameters<typeof openSocket>[2], string, number, string][] = [
    ['no token', {}, url, 401, 'not_authenticated'],
    ['a forged token', { token: `${bob.token.slice(0, -4)}AAAA` }, url, 401, 'not_authenticated'],
    [
      'the token in the query string (ignored)',
      {},
      socketUrl(address, bob.registrationId, `?token=${bob.token}`),
      401,
      'not_authenticated',
    ],
    ["another user's device", { token: alice.token }, url, 403, 'device_changed'],
    ['a caller without a device', { token: deviceless.token }, url, 404, 'no_device'],
  ]
  for (const [name, opts, target, status, code] of cases) {
    const refusal = await openSocket(tt, target, opts).refused
    tt.same(refusal && { status: refusal.status, code: refusal.body.code }, { status, code }, name)
  }
  const plain = await api.get(`/messages/${bob.registrationId}/websocket/`, { token: bob.token })
  tt.equal(plain.status, 426, 'a plain GET answers 426')
  tt.equal(plain.body.code, 'upgrade_required')
  tt.equal(plain.headers.upgrade, 'websocket')
})

t.test('a browser sends its token as a subprotocol entry; the server agrees to the protocol name only', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const s = await connect(tt, socketUrl(address, bob.registrationId), {
    protocols: ['signal.messages.v1', `bearer.${bob.token}`],
  })
  tt.equal(s.ws.protocol, 'signal.messages.v1')
  tt.same(await s.backlog(), [])
  const forged = await openSocket(tt, socketUrl(address, bob.registrationId), {
    protocols: ['signal.messages.v1', 'bearer.x.y.z'],
  }).refused
  tt.equal(forged?.status, 401)
})

t.test('a device with a signing key needs a signed upgrade: a token alone does not open its socket', async (tt) => {
  const { api, address } = await serve(tt)
  const user = await signUp(api)
  const key = signingKeyPair()
  const registrationId = 7777
  tt.equal(
    (await api.post('/device/', { ...deviceBody(registrationId), signingKey: key.publicKey }, { token: user.token }))
      .status,
    201,
  )
  const path = `/messages/${registrationId}/websocket/`
  const url = socketUrl(address, registrationId)

  const unsigned = await openSocket(tt, url, { token: user.token }).refused
  tt.same(unsigned && [unsigned.status, unsigned.body.code], [401, 'invalid_request_signature'], 'token alone')
  const wrongPath = await openSocket(tt, url, {
    token: user.token,
    headers: { signature: signatureHeader(key.privateKey, 1, 'GET', '/messages/1/') },
  }).refused
  tt.equal(wrongPath?.status, 401, 'a signature over another request')

  const header = await connect(tt, url, {
    token: user.token,
    headers: { signature: signatureHeader(key.privateKey, 2, 'GET', path) },
  })
  await header.backlog()
  header.ws.close()
  const replay = await openSocket(tt, url, {
    token: user.token,
    headers: { signature: signatureHeader(key.privateKey, 2, 'GET', path) },
  }).refused
  tt.equal(replay?.status, 401, 'a replayed counter')

  // The browser form: the signature as a subprotocol entry, base64url.
  const [counter, sig] = signatureHeader(key.privateKey, 3, 'GET', path).split('.')
  const browser = await connect(tt, url, {
    protocols: [
      'signal.messages.v1',
      `bearer.${user.token}`,
      `signature.${counter}.${Buffer.from(sig, 'base64').toString('base64url')}`,
    ],
  })
  tt.same(await browser.backlog(), [])
})

t.test('queued messages come oldest first, then queue_empty, then each new one as it is sent', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const queued = [
    await send(api, alice, bob, 'one'),
    await send(api, alice, bob, 'two'),
    await send(api, alice, bob, 'three'),
  ]
  const s = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  const backlog = await s.backlog()
  tt.same(backlog, queued, 'the same items as GET /messages, oldest first')
  tt.same(
    (await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body,
    queued,
    'polling works alongside',
  )

  const fresh = await send(api, alice, bob, 'four')
  tt.same(await s.messages(1), [fresh], 'pushed as it is stored')
  // The unacknowledged ones are not sent again on this connection.
  const later = await send(api, alice, bob, 'five')
  tt.same(await s.messages(1), [later])
  tt.same(s.frames, [], 'nothing else arrived')
})

t.test('an ack deletes; unacknowledged messages come again on the next connection', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const [m1, m2, m3] = [await send(api, alice, bob), await send(api, alice, bob), await send(api, alice, bob)]
  const first = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  tt.same(
    (await first.backlog()).map((m) => m.id),
    [m1.id, m2.id, m3.id],
  )
  tt.same(await first.ack([m1.id, m3.id, m3.id, 999999]), { type: 'acked', deleted: [m1.id, m3.id], missing: [999999] })
  tt.same(
    (await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body,
    [m2],
    'acknowledged messages are deleted',
  )
  first.ws.close()
  await first.closed

  const second = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  tt.same(await second.backlog(), [m2], 'the unacknowledged one again, and only it')
  // Deleted by polling meanwhile: the ack reports it missing.
  await api.delete(`/messages/${bob.registrationId}/`, [m2.id], { token: bob.token })
  tt.same(await second.ack([m2.id]), { type: 'acked', deleted: [], missing: [m2.id] })
})

t.test('a second connection for the device closes the first with 4409; the second gets the pushes', async (tt) => {
  const { app, api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const first = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  await first.backlog()
  const second = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  tt.same(await first.closed, { code: 4409, reason: 'replaced by a newer connection' })
  await second.backlog()
  const m = await send(api, alice, bob)
  tt.same(await second.messages(1), [m])
  tt.equal(app.delivery.connectionCount(), 1)
})

t.test('bad frames get an error frame and the connection stays usable', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const m = await send(api, alice, bob)
  const s = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  await s.backlog()
  const bad: unknown[] = [
    'not json',
    '[1,2]',
    'null',
    { type: 'hello' },
    { type: 'ack' },
    { type: 'ack', ids: [] },
    { type: 'ack', ids: ['1'] },
    { type: 'ack', ids: [0] },
    { type: 'ack', ids: [1.5] },
    { type: 'ack', ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
    { type: 'ack', ids: [m.id], extra: true },
  ]
  for (const frame of bad) {
    if (typeof frame !== 'string')
      tt.notOk(validateAckFrame(frame), `asyncapi.yaml refuses ${JSON.stringify(frame).slice(0, 40)} too`)
    s.send(frame)
    const answer = await s.next('error')
    tt.equal(answer.code, 'invalid_frame', JSON.stringify(frame).slice(0, 60))
  }
  s.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  tt.equal((await s.next('error')).code, 'invalid_frame', 'a binary frame')
  tt.ok(validateAckFrame({ type: 'ack', ids: [m.id] }), 'asyncapi.yaml accepts a good ack')
  tt.same(await s.ack([m.id]), { type: 'acked', deleted: [m.id], missing: [] }, 'still usable')

  s.send('x'.repeat(65 * 1024))
  tt.equal((await s.closed).code, 1009, 'an oversized frame closes with 1009')
})

t.test('heartbeat: a client that does not answer pings is dropped; one that does stays', async (tt) => {
  const { app, api, address } = await serve(tt, { wsHeartbeatInterval: 0.1 })
  const bob = await userWithDevice(api)
  const carol = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const silent = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token, autoPong: false })
  const lively = await connect(tt, socketUrl(address, carol.registrationId), { token: carol.token })
  tt.equal((await silent.closed).code, 1006, 'terminated without a close frame')
  // Several intervals later the answering one is still open and still served.
  await new Promise((resolve) => setTimeout(resolve, 500))
  tt.equal(lively.ws.readyState, WebSocket.OPEN)
  const m = await send(api, alice, carol)
  tt.same(
    (await lively.messages(1)).map((x) => x.id),
    [m.id],
  )
  tt.equal(app.delivery.connectionCount(), 1)
})

t.test('logout, a password change and deleting the device close the socket at once', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const s = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  await s.backlog()
  tt.equal((await api.post('/auth/logout/', undefined, { token: bob.token })).status, 204)
  tt.equal((await s.closed).code, 4401, 'logout')

  const carol = await userWithDevice(api)
  const again = await api.post('/auth/login/', { email: carol.email, password: carol.password })
  const c = await connect(tt, socketUrl(address, carol.registrationId), { token: carol.token })
  await c.backlog()
  const other = await connect(tt, socketUrl(address, carol.registrationId), { token: again.body.auth_token })
  tt.equal((await c.closed).code, 4409)
  await other.backlog()
  const changed = await api.post(
    '/auth/users/set_password/',
    { current_password: carol.password, new_password: 'another-long-passphrase-42' },
    { token: carol.token },
  )
  tt.equal(changed.status, 204)
  tt.equal((await other.closed).code, 4401, "a password change ends the other sessions' sockets")

  const dave = await userWithDevice(api)
  const d = await connect(tt, socketUrl(address, dave.registrationId), { token: dave.token })
  await d.backlog()
  tt.equal((await api.delete('/device/', undefined, { token: dave.token })).status, 204)
  tt.equal((await d.closed).code, 4404, 'device deleted')
})

t.test('closing the app closes every socket with 1001', async (tt) => {
  const { app, api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const s = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
  await s.backlog()
  await app.close()
  tt.equal((await s.closed).code, 1001)
})

t.test('the SDK client reconnects after a drop, gets what was sent meanwhile, and yields nothing twice', async (tt) => {
  const { app, api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const socket = connectMessages({
    baseUrl: address,
    token: bob.token,
    registrationId: bob.registrationId,
    WebSocket: WebSocket as never,
    reconnectDelayMs: 50,
  })
  tt.teardown(() => socket.close())
  const it = socket[Symbol.asyncIterator]()
  await socket.caughtUp
  const unacked = await send(api, alice, bob, 'not acknowledged')
  tt.same((await it.next()).value, unacked)
  // The connection drops (no close frame); the message stays queued and comes again, and the SDK drops the copy.
  for (const client of app.websocketServer.clients) client.terminate()
  const meanwhile = await send(api, alice, bob, 'sent while away')
  tt.same((await it.next()).value, meanwhile, 'the next message yielded is the new one, not the redelivered copy')
  socket.ack([unacked.id, meanwhile.id])
  socket.close()
  tt.same(await it.next(), { value: undefined, done: true }, 'close() ends the iteration')
})

t.test('the SDK client yields, acknowledges and skips nothing', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const queued = await send(api, alice, bob, 'queued')
  const socket = connectMessages({
    baseUrl: address,
    token: bob.token,
    registrationId: bob.registrationId,
    WebSocket: WebSocket as never,
  })
  tt.teardown(() => socket.close())
  const it = socket[Symbol.asyncIterator]()
  tt.same((await it.next()).value, queued)
  await socket.caughtUp
  const pushed = await send(api, alice, bob, 'pushed')
  tt.same((await it.next()).value, pushed)
  socket.ack([queued.id, pushed.id])
  for (let i = 0; i < 100; i++) {
    if ((await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  tt.same(
    (await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body,
    [],
    'acknowledged through the SDK',
  )

  await api.post('/auth/logout/', undefined, { token: bob.token })
  await tt.rejects(it.next(), new MessageSocketClosed(4401, 'session ended'), 'the iterator ends with the close code')
})

t.test('the SDK client tells its app when a device was added to or removed from the account', async (tt) => {
  const { api, address } = await serve(tt)
  const bob = await userWithDevice(api)
  let changes = 0
  let changed = () => {}
  const socket = connectMessages({
    baseUrl: address,
    token: bob.token,
    registrationId: bob.registrationId,
    WebSocket: WebSocket as never,
    onDevicesChanged: () => {
      changes++
      changed()
    },
  })
  tt.teardown(() => socket.close())
  await socket.caughtUp
  const next = () => new Promise<void>((resolve) => (changed = resolve))
  const added = next()
  const second = await api.post('/v2/devices/', deviceBody(bob.registrationId + 1, `${bob.email}.2`, 1), {
    token: bob.token,
  })
  tt.equal(second.status, 201)
  await added
  tt.equal(changes, 1, 'told once of the new device')
  const removed = next()
  tt.equal((await api.delete('/v2/devices/2/', undefined, { token: second.body.auth_token })).status, 204)
  await removed
  tt.equal(changes, 2, 'and once of its removal')
})
