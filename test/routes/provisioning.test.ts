import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, PASSWORD, signUp, userWithDevice, type Api } from '../helper.js'
import { connect, openSocket, type TestSocket } from '../message-socket.js'

// The provisioning relay: GET /v2/provisioning/websocket/ (a socket that waits for one linking
// message) and PUT /v2/provisioning/{address}/ (another token of the same account hands it over).
// Frames are checked against asyncapi.yaml, answers against openapi.yaml, by the test clients.

type T = Parameters<typeof build>[0]
type ProvisioningFrame = { type: string; address?: string; body?: string }

const PROTOCOL = 'signal.provisioning.v1'

async function serve(tt: T) {
  const { app, api } = await build(tt)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, api, url: `${address.replace(/^http/, 'ws')}/v2/provisioning/websocket/` }
}

/** The next frame of `type` (TestSocket's own typing lists the message socket's frames only). */
const nextFrame = (s: TestSocket, type: string) =>
  (s.next as unknown as (type: string) => Promise<ProvisioningFrame>).call(s, type)

/** Opens a provisioning socket and reads its address. */
async function provisioningSocket(tt: T, url: string, token: string) {
  const socket = await connect(tt, url, { token, protocols: [PROTOCOL] })
  const first = await nextFrame(socket, 'provisioning_address')
  return { socket, address: first.address as string }
}

const provision = (api: Api, token: string | undefined, address: string, body: unknown) =>
  api.request('PUT', `/v2/provisioning/${address}/`, body, { token })

/** Another token of the same account, as a second device would hold. */
async function anotherToken(api: Api, email: string) {
  const res = await api.post('/auth/login/', { email, password: PASSWORD })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`)
  return res.body.auth_token as string
}

const rows = async (app: FastifyInstance) => Number((await app.db.knex('provisioning_sockets').count({ n: '*' }))[0].n)

t.test('the first frame is the address: at least 128 bits, base64url; each socket its own', async (tt) => {
  const { app, api, url } = await serve(tt)
  const alice = await signUp(api)
  const a = await provisioningSocket(tt, url, alice.token)
  const b = await provisioningSocket(tt, url, alice.token)
  tt.equal(a.socket.ws.protocol, PROTOCOL, 'the server agreed to the provisioning protocol')
  for (const address of [a.address, b.address]) {
    tt.match(address, /^[A-Za-z0-9_-]{22,}$/)
    tt.ok(Buffer.from(address, 'base64url').length >= 16, 'at least 128 bits')
  }
  tt.not(a.address, b.address)
  tt.equal(await rows(app), 2, 'one registered address per open socket')
  tt.same(a.socket.frames, [], 'nothing after the address until a message is put')
})

t.test('PUT from another token of the account: 204, the socket gets the body and is closed with 1000', async (tt) => {
  const { app, api, url } = await serve(tt)
  const alice = await userWithDevice(api)
  const newDevice = await anotherToken(api, alice.email)
  const { socket, address } = await provisioningSocket(tt, url, newDevice)
  const other = await provisioningSocket(tt, url, newDevice)
  const body = randomBytes(1500).toString('base64')

  const res = await provision(api, alice.token, address, { body })
  tt.equal(res.status, 204)
  tt.equal(res.text, '')
  tt.same(await nextFrame(socket, 'provisioning_message'), { type: 'provisioning_message', body })
  tt.equal((await socket.closed).code, 1000)
  tt.same(socket.frames, [], 'exactly one message')
  tt.equal(await rows(app), 1, "the delivered socket's address is gone, the other's stays")

  const again = await provision(api, alice.token, address, { body })
  tt.equal(again.status, 404, 'a second PUT to that address')
  tt.equal(again.body.code, 'no_provisioning_socket')

  tt.equal(other.socket.ws.readyState, other.socket.ws.OPEN, 'the other socket of the account is untouched')
  tt.same(other.socket.frames, [])
  const second = randomBytes(32).toString('base64')
  tt.equal((await provision(api, newDevice, other.address, { body: second })).status, 204, 'the same token too')
  tt.same(await nextFrame(other.socket, 'provisioning_message'), { type: 'provisioning_message', body: second })
  tt.equal((await other.socket.closed).code, 1000)
})

t.test("another account's address and an unknown one answer the same 404; the socket gets nothing", async (tt) => {
  const { api, url } = await serve(tt)
  const alice = await signUp(api)
  const mallory = await userWithDevice(api)
  const { socket, address } = await provisioningSocket(tt, url, alice.token)

  const foreign = await provision(api, mallory.token, address, { body: 'bWFsbG9yeQ==' })
  tt.equal(foreign.status, 404)
  tt.equal(foreign.body.code, 'no_provisioning_socket')
  const unknown = await provision(api, mallory.token, randomBytes(16).toString('base64url'), { body: 'bWFsbG9yeQ==' })
  tt.equal(unknown.status, 404)
  tt.same(unknown.body, foreign.body, 'the two answers cannot be told apart')
  tt.same(Object.keys(unknown.headers).sort(), Object.keys(foreign.headers).sort(), 'nor by their headers')
  const ownUnknown = await provision(api, alice.token, randomBytes(16).toString('base64url'), { body: 'YQ==' })
  tt.same([ownUnknown.status, ownUnknown.body], [404, foreign.body], 'an unknown address of the own account')

  tt.equal(socket.ws.readyState, socket.ws.OPEN, 'the socket is still open')
  const real = randomBytes(64).toString('base64')
  tt.equal((await provision(api, alice.token, address, { body: real })).status, 204)
  tt.equal((await socket.closed).code, 1000)
  tt.same(
    socket.frames,
    [{ type: 'provisioning_message', body: real }],
    "the socket got its own account's body only, never mallory's",
  )
})

t.test('an address lives while its socket is open: once the client closed it, 404', async (tt) => {
  const { app, api, url } = await serve(tt)
  const alice = await userWithDevice(api)
  const { socket, address } = await provisioningSocket(tt, url, alice.token)
  socket.ws.close(1000)
  tt.equal((await socket.closed).code, 1000)
  const res = await provision(api, alice.token, address, { body: 'YQ==' })
  tt.equal(res.status, 404)
  tt.equal(res.body.code, 'no_provisioning_socket')
  tt.equal(await rows(app), 0, 'its address is gone')
})

t.test('a plain GET is 426; no token or a bad one is 401 before the upgrade', async (tt) => {
  const { api, url } = await serve(tt)
  const alice = await signUp(api)
  const plain = await api.get('/v2/provisioning/websocket/', { token: alice.token })
  tt.equal(plain.status, 426)
  tt.equal(plain.body.code, 'upgrade_required')
  tt.equal(plain.headers.upgrade, 'websocket')

  for (const [name, token] of [
    ['no token', undefined],
    ['a forged token', `${alice.token.slice(0, -4)}AAAA`],
  ] as const) {
    const refusal = await openSocket(tt, url, { token, protocols: [PROTOCOL] }).refused
    tt.same(refusal && [refusal.status, refusal.body.code], [401, 'not_authenticated'], name)
  }
  const loggedOut = await anotherToken(api, alice.email)
  tt.equal((await api.post('/auth/logout/', undefined, { token: loggedOut })).status, 204)
  const ended = await openSocket(tt, url, { token: loggedOut, protocols: [PROTOCOL] }).refused
  tt.same(ended && [ended.status, ended.body.code], [401, 'not_authenticated'], 'a logged-out token')

  const anonymous = await provision(api, undefined, 'A'.repeat(22), { body: 'YQ==' })
  tt.equal(anonymous.status, 401, 'PUT without a token')
  tt.equal(anonymous.body.code, 'not_authenticated')
})

t.test('a browser sends its token as a subprotocol entry', async (tt) => {
  const { api, url } = await serve(tt)
  const alice = await signUp(api)
  const socket = await connect(tt, url, { protocols: [PROTOCOL, `bearer.${alice.token}`] })
  tt.equal(socket.ws.protocol, PROTOCOL, 'the credential entry is never echoed')
  const first = await nextFrame(socket, 'provisioning_address')
  tt.match(first.address, /^[A-Za-z0-9_-]{22,}$/)
})

t.test('bodies over 64 KiB decoded, empty or not base64 are 400 and leave the socket waiting', async (tt) => {
  const { api, url } = await serve(tt)
  const alice = await userWithDevice(api)
  const { socket, address } = await provisioningSocket(tt, url, alice.token)
  const sized = (bytes: number) => randomBytes(bytes).toString('base64')
  tt.equal(sized(65537).length, sized(65536).length, 'one byte over fits the same base64 length')
  const cases: [string, unknown, string][] = [
    ['65537 bytes decoded', { body: sized(65537) }, 'body.body'],
    ['65539 bytes decoded', { body: sized(65539) }, 'body.body'],
    ['an empty body', { body: '' }, 'body.body'],
    ['not base64', { body: 'not base64!' }, 'body.body'],
    ['no body field', {}, 'body.body'],
    ['an extra field', { body: 'YQ==', extra: 1 }, 'body.extra'],
  ]
  for (const [name, body, field] of cases) {
    const res = await provision(api, alice.token, address, body)
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.ok(
      res.body.errors?.some((e: { field: string }) => e.field === field),
      `${name}: names ${field}`,
    )
  }
  const badAddress = await provision(api, alice.token, 'a.b', { body: 'YQ==' })
  tt.equal(badAddress.status, 400, 'an address outside base64url')
  tt.equal(badAddress.body.code, 'invalid_data')
  tt.same(socket.frames, [], 'the socket got nothing')
  tt.equal(socket.ws.readyState, socket.ws.OPEN)

  const max = sized(65536)
  tt.equal((await provision(api, alice.token, address, { body: max })).status, 204, 'exactly 64 KiB')
  tt.same(await nextFrame(socket, 'provisioning_message'), { type: 'provisioning_message', body: max })
  tt.equal((await socket.closed).code, 1000)
})
