import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, ciphertext, signUp, userWithDevice, type Api } from '../helper.js'

type User = Awaited<ReturnType<typeof userWithDevice>>

const send = (api: Api, from: User, to: { email: string }, message: string) =>
  api.post(`/messages/${from.registrationId}/`, { recipient: to.email, message }, { token: from.token })

const countMessages = async (app: FastifyInstance) => Number((await app.db.knex('messages').count({ n: '*' }))[0].n)

t.test('POST /messages/ queues the message: 201 with the stored message', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const content = ciphertext(bob.registrationId)
  const res = await send(api, alice, bob, content)
  tt.equal(res.status, 201)
  tt.same(Object.keys(res.body).sort(), [
    'content',
    'created',
    'id',
    'recipientAddress',
    'senderAddress',
    'senderRegistrationId',
  ])
  tt.match(res.body, {
    id: Number,
    senderAddress: alice.device.address,
    senderRegistrationId: alice.registrationId,
    recipientAddress: bob.device.address,
    content,
  })
  tt.match(res.body.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, 'created is ISO 8601')
  tt.equal(new Date(res.body.created).toISOString(), res.body.created, 'created parses back to itself')

  const rows = await app.db.knex('messages').select('id', 'content')
  tt.same(
    rows.map((r: { id: number; content: string }) => ({ id: Number(r.id), content: r.content })),
    [{ id: res.body.id, content }],
  )
  const inbox = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.same(inbox.body, [res.body], 'the queued message reads back exactly as answered')
})

t.test('a message that is not a JSON object with an integer registrationId is 400 invalid_message', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const bad = [
    'plain text, not JSON',
    '{"type":3,"body":"abc"',
    JSON.stringify({ type: 3, body: 'abc' }),
    JSON.stringify({ type: 3, body: 'abc', registrationId: String(bob.registrationId) }),
    JSON.stringify({ type: 3, body: 'abc', registrationId: bob.registrationId + 0.5 }),
    JSON.stringify({ type: 3, body: 'abc', registrationId: null }),
    JSON.stringify([{ registrationId: bob.registrationId }]),
    String(bob.registrationId),
    'null',
    '"a string"',
  ]
  for (const message of bad) {
    const res = await send(api, alice, bob, message)
    tt.equal(res.status, 400, `${message}: status`)
    tt.equal(res.body.code, 'invalid_message', `${message}: code`)
  }
  tt.equal(await countMessages(app), 0)
})

t.test("a registrationId that is not the recipient device's is 403 recipient_identity_changed", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  // Beyond 32 bits too: no device has it (PostgreSQL's column could not even hold it; found by the fuzzer).
  for (const id of [bob.registrationId + 1, alice.registrationId, 2 ** 32 + bob.registrationId]) {
    const res = await send(api, alice, bob, ciphertext(id))
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'recipient_identity_changed')
  }
  tt.equal(await countMessages(app), 0)
})

t.test('messages over maxMessageBytes are 413 message_too_large and not stored', async (tt) => {
  const { app, api } = await build(tt, { maxMessageBytes: 1024 })
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  // Padded to an exact byte length while staying a valid ciphertext for bob.
  const sized = (bytes: number, pad = 'x') => {
    const base = ciphertext(bob.registrationId, '')
    const fill = bytes - Buffer.byteLength(base)
    return ciphertext(bob.registrationId, pad.repeat(fill / Buffer.byteLength(pad)))
  }
  const exact = sized(1024)
  tt.equal(Buffer.byteLength(exact), 1024)
  tt.equal((await send(api, alice, bob, exact)).status, 201, 'exactly maxMessageBytes is accepted')

  const over = await send(api, alice, bob, sized(1025))
  tt.equal(over.status, 413)
  tt.equal(over.body.code, 'message_too_large')

  const multibyte = sized(1026, 'é') // fewer than 1024 characters, more than 1024 bytes
  tt.ok(multibyte.length < 1024 && Buffer.byteLength(multibyte) > 1024)
  const mb = await send(api, alice, bob, multibyte)
  tt.equal(mb.status, 413, 'the cap counts bytes, not characters')
  tt.equal(mb.body.code, 'message_too_large')
  tt.equal(await countMessages(app), 1, 'only the message within the cap is stored')
})

t.test('the default cap is 64 KiB', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const base = ciphertext(bob.registrationId, '')
  const sized = (bytes: number) => ciphertext(bob.registrationId, 'x'.repeat(bytes - base.length))
  tt.equal((await send(api, alice, bob, sized(65536))).status, 201)
  const over = await send(api, alice, bob, sized(65537))
  tt.equal(over.status, 413)
  tt.equal(over.body.code, 'message_too_large')
  tt.equal(await countMessages(app), 1)
})

t.test('send errors: recipient and sender checks, nothing stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const deviceless = await signUp(api)
  const msg = ciphertext(bob.registrationId)
  const post = (registrationId: number, recipient: string, token: string | undefined) =>
    api.post(`/messages/${registrationId}/`, { recipient, message: msg }, { token })
  const cases: [string, () => ReturnType<typeof post>, number, string][] = [
    [
      'malformed recipient email',
      () => post(alice.registrationId, 'not-an-email', alice.token),
      400,
      'invalid_recipient_email',
    ],
    [
      'unknown recipient',
      () => post(alice.registrationId, 'nobody-here@example.com', alice.token),
      404,
      'no_recipient',
    ],
    [
      'recipient without a device',
      () => post(alice.registrationId, deviceless.email, alice.token),
      404,
      'no_recipient_device',
    ],
    ['sender without a device', () => post(alice.registrationId, bob.email, deviceless.token), 404, 'no_device'],
    [
      'wrong sender registrationId',
      () => post(alice.registrationId + 1, bob.email, alice.token),
      403,
      'device_changed',
    ],
    ['no token', () => post(alice.registrationId, bob.email, undefined), 401, 'not_authenticated'],
    ['bad token', () => post(alice.registrationId, bob.email, 'xyz'), 401, 'not_authenticated'],
  ]
  for (const [name, request, status, code] of cases) {
    const res = await request()
    tt.equal(res.status, status, `${name}: status`)
    tt.equal(res.body.code, code, `${name}: code`)
  }
  tt.equal(await countMessages(app), 0)
})

t.test('the recipient email is case-insensitive when sending', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const res = await send(api, alice, { email: bob.email.toUpperCase() }, ciphertext(bob.registrationId))
  tt.equal(res.status, 201)
  tt.equal((await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body.length, 1)
})

t.test('malformed send bodies are 400 invalid_data', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const msg = ciphertext(bob.registrationId)
  const cases: [string, unknown, string][] = [
    ['no message', { recipient: bob.email }, 'body.message'],
    ['no recipient', { message: msg }, 'body.recipient'],
    ['an empty message', { recipient: bob.email, message: '' }, 'body.message'],
    ['message as an object', { recipient: bob.email, message: JSON.parse(msg) }, 'body.message'],
    ['an extra field', { recipient: bob.email, message: msg, extra: 1 }, 'body.extra'],
  ]
  for (const [name, body, field] of cases) {
    const res = await api.post(`/messages/${alice.registrationId}/`, body, { token: alice.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.ok(
      res.body.errors.some((e: { field: string }) => e.field === field),
      `${name}: names ${field}`,
    )
  }
  tt.equal(await countMessages(app), 0)
})

t.test("GET /messages/ returns only the caller's queue, oldest first, and keeps it until deleted", async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const carol = await userWithDevice(api)
  const sent: { to: User; message: any }[] = []
  for (const [from, to] of [
    [alice, bob],
    [carol, bob],
    [bob, alice],
    [alice, bob],
    [carol, alice],
  ] as const) {
    const res = await send(api, from, to, ciphertext(to.registrationId))
    tt.equal(res.status, 201)
    sent.push({ to, message: res.body })
  }
  const expectedFor = (u: User) => sent.filter((s) => s.to === u).map((s) => s.message)

  const bobs = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.equal(bobs.status, 200)
  tt.same(bobs.body, expectedFor(bob), "bob's three messages, oldest first")
  tt.same(
    bobs.body.map((m: { senderAddress: string }) => m.senderAddress),
    [alice.device.address, carol.device.address, alice.device.address],
  )
  tt.same((await api.get(`/messages/${alice.registrationId}`, { token: alice.token })).body, expectedFor(alice))
  tt.same(
    (await api.get(`/messages/${carol.registrationId}/`, { token: carol.token })).body,
    [],
    'an empty queue is an empty list',
  )
  tt.same(
    (await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body,
    expectedFor(bob),
    'fetching does not remove',
  )
})

t.test('GET /messages/ errors: device_changed, no_device, not_authenticated', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  tt.equal((await send(api, alice, bob, ciphertext(bob.registrationId))).status, 201)
  const deviceless = await signUp(api)

  const peek = await api.get(`/messages/${bob.registrationId}/`, { token: alice.token })
  tt.equal(peek.status, 403, "another device's registrationId does not open its queue")
  tt.equal(peek.body.code, 'device_changed')
  const none = await api.get(`/messages/${bob.registrationId}/`, { token: deviceless.token })
  tt.equal(none.status, 404)
  tt.equal(none.body.code, 'no_device')
  const anon = await api.get(`/messages/${bob.registrationId}/`)
  tt.equal(anon.status, 401)
  tt.equal(anon.body.code, 'not_authenticated')
})

t.test('GET /messages/<non-integer>/ answers a documented 400 invalid_data', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const res = await api.get('/messages/abc/', { token: alice.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
})

t.test('DELETE /messages/ answers one entry per id, in order', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const ids: number[] = []
  for (let i = 0; i < 3; i++) ids.push((await send(api, alice, bob, ciphertext(bob.registrationId))).body.id)
  const missing = ids[2] + 1000

  const res = await api.delete(`/messages/${bob.registrationId}/`, [ids[2], missing, ids[0]], { token: bob.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.length, 3)
  tt.equal(res.body[0], 'message_deleted')
  tt.match(res.body[1], { code: 'non-existant_message', message: String })
  tt.same(Object.keys(res.body[1]).sort(), ['code', 'message'])
  tt.equal(res.body[2], 'message_deleted')

  const left = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.same(
    left.body.map((m: { id: number }) => m.id),
    [ids[1]],
    'the undeleted message stays queued',
  )

  const again = await api.delete(`/messages/${bob.registrationId}/`, [ids[0]], { token: bob.token })
  tt.equal(again.status, 200)
  tt.equal(again.body[0].code, 'non-existant_message', 'a second delete of the same id finds nothing')

  const twice = await api.delete(`/messages/${bob.registrationId}`, [ids[1], ids[1]], { token: bob.token })
  tt.equal(twice.body[0], 'message_deleted')
  tt.equal(twice.body[1].code, 'non-existant_message', 'the same id twice in one request is deleted once')
  tt.equal(await countMessages(app), 0)

  const huge = await api.delete(`/messages/${bob.registrationId}/`, [Number.MAX_SAFE_INTEGER, 2 ** 31], {
    token: bob.token,
  })
  tt.equal(huge.status, 200, 'ids beyond 32 bits are fine')
  tt.same(
    huge.body.map((e: { code: string }) => e.code),
    ['non-existant_message', 'non-existant_message'],
  )
})

t.test('content is stored and returned exactly, non-ASCII and escapes included', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const content = JSON.stringify({
    type: 1,
    body: 'grüße 🙂 "quoted" \\ back\nslash\u0000',
    registrationId: bob.registrationId,
    extra: [1, { a: null }],
  })
  const sent = await send(api, alice, bob, content)
  tt.equal(sent.status, 201)
  tt.equal(sent.body.content, content)
  tt.equal((await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body[0].content, content)
})

t.test("deleting another user's message answers exactly as a nonexistent id and leaves it queued", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const toBob = (await send(api, alice, bob, ciphertext(bob.registrationId))).body
  const toAlice = (await send(api, bob, alice, ciphertext(alice.registrationId))).body
  const missing = Math.max(toBob.id, toAlice.id) + 1

  // Alice tries both her own sent message to bob and an id that never existed.
  const res = await api.delete(`/messages/${alice.registrationId}/`, [toBob.id, missing], { token: alice.token })
  tt.equal(res.status, 200)
  const [foreign, absent] = res.body
  tt.equal(foreign.code, 'non-existant_message')
  tt.same(
    foreign,
    { ...absent, message: absent.message.replace(String(missing), String(toBob.id)) },
    'same answer apart from the id itself',
  )
  tt.notOk(
    foreign.message.includes(alice.device.address) || foreign.message.includes(bob.device.address),
    'the answer says nothing about the owner',
  )

  tt.same(
    (await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body,
    [toBob],
    "bob's message is still queued",
  )
  tt.same(
    (await api.get(`/messages/${alice.registrationId}/`, { token: alice.token })).body,
    [toAlice],
    "alice's own queue is untouched",
  )
  tt.equal(await countMessages(app), 2)
})

t.test('DELETE /messages/ errors change nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const id = (await send(api, alice, bob, ciphertext(bob.registrationId))).body.id
  const deviceless = await signUp(api)

  const changed = await api.delete(`/messages/${bob.registrationId + 1}/`, [id], { token: bob.token })
  tt.equal(changed.status, 403)
  tt.equal(changed.body.code, 'device_changed')
  const none = await api.delete(`/messages/${bob.registrationId}/`, [id], { token: deviceless.token })
  tt.equal(none.status, 404)
  tt.equal(none.body.code, 'no_device')
  const anon = await api.delete(`/messages/${bob.registrationId}/`, [id])
  tt.equal(anon.status, 401)
  tt.equal(anon.body.code, 'not_authenticated')
  for (const body of [[], ['1'], [0], [1.5], { id }]) {
    const res = await api.delete(`/messages/${bob.registrationId}/`, body, { token: bob.token })
    tt.equal(res.status, 400, `${JSON.stringify(body)}: status`)
    tt.equal(res.body.code, 'invalid_data', `${JSON.stringify(body)}: code`)
  }
  tt.equal(await countMessages(app), 1)
})

t.test('a sender deleting its device does not drop messages it already queued for others', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const sent = (await send(api, alice, bob, ciphertext(bob.registrationId))).body
  tt.equal((await api.delete('/device/', undefined, { token: alice.token })).status, 204)
  tt.same((await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body, [sent])
})
