import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, ciphertext, deviceBody, PASSWORD, signUp, userWithDevice, type Api } from '../helper.js'
import { connect, socketUrl } from '../message-socket.js'
import type { Config } from '../../lib/config.js'

// PUT /v2/messages/{email}/: one message per device of the recipient, checked against its device
// list, all or nothing; and how queued messages read back to bound and unbound readers.

type T = Parameters<typeof build>[0]
type Device = { deviceId: number; registrationId: number; token: string; row: number }
type Account = Awaited<ReturnType<typeof userWithDevice>> & { devices: Device[] }
type Outgoing = { deviceId: number; registrationId: number; content: string }

let nextRegistrationId = 700_000

/** A user with `n` devices: device 1 from POST /device/, the others from POST /v2/devices/; bound tokens for each. */
async function account(app: FastifyInstance, api: Api, n: number): Promise<Account> {
  const user = await userWithDevice(api)
  const login = await api.post('/auth/login/', { email: user.email, password: PASSWORD, deviceId: 1 })
  if (login.status !== 200) throw new Error(`bound login failed: ${login.status} ${login.text}`)
  const devices: Device[] = [{ deviceId: 1, registrationId: user.registrationId, token: login.body.auth_token, row: 0 }]
  for (let i = 1; i < n; i++) {
    const registrationId = ++nextRegistrationId
    const res = await api.post('/v2/devices/', deviceBody(registrationId, `${user.email}.${i + 1}`), {
      token: user.token,
    })
    if (res.status !== 201) throw new Error(`add device failed: ${res.status} ${res.text}`)
    devices.push({ deviceId: res.body.deviceId, registrationId, token: res.body.auth_token, row: 0 })
  }
  for (const d of devices)
    d.row = (await app.db.knex('devices').where({ user_id: user.id, device_id: d.deviceId }).first()).id
  return { ...user, devices }
}

const put = (api: Api, token: string | undefined, email: string, body: unknown) =>
  api.request('PUT', `/v2/messages/${email}/`, body, { token })

/** One message per device, with content naming the device. */
const toEach = (devices: Device[], tag = 'm'): Outgoing[] =>
  devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, content: `${tag}-for-${d.deviceId}` }))

const countMessages = async (app: FastifyInstance) => Number((await app.db.knex('messages').count({ n: '*' }))[0].n)

/** The contents queued for a device row, oldest first. */
const queued = async (app: FastifyInstance, row: number) =>
  (await app.db.knex('messages').where({ recipient_device_id: row }).orderBy('id').select('content')).map(
    (r: { content: string }) => r.content,
  )

const SEED_KEYS = ['content', 'created', 'id', 'recipientAddress', 'senderAddress', 'senderRegistrationId']

t.test("PUT /v2/messages/ queues each device's own content and answers its id", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 2)
  const bob = await account(app, api, 3)
  const sender = alice.devices[1]
  const outgoing = toEach(bob.devices)
  const shuffled = [outgoing[2], outgoing[0], outgoing[1]]
  const res = await put(api, sender.token, bob.email, { messages: shuffled, timestamp: 1764928800123 })
  tt.equal(res.status, 200)
  tt.same(Object.keys(res.body), ['messages'])
  const answered = [...res.body.messages].sort((a, b) => a.deviceId - b.deviceId)
  tt.same(
    answered.map((m: { deviceId: number }) => m.deviceId),
    [1, 2, 3],
  )
  for (const [i, d] of bob.devices.entries()) {
    tt.same(await queued(app, d.row), [`m-for-${d.deviceId}`], `device ${d.deviceId} got its own content`)
    const row = await app.db.knex('messages').where({ recipient_device_id: d.row }).first()
    tt.equal(Number(row.id), answered[i].id, `device ${d.deviceId}: the answered id`)
    tt.match(row, {
      sender_email: alice.email,
      sender_device_id: 2,
      sender_registration_id: sender.registrationId,
      sender_address: `${alice.email}.2`,
      recipient_address: d.deviceId === 1 ? bob.device.address : `${bob.email}.${d.deviceId}`,
    })
    tt.equal(Number(row.sender_timestamp), 1764928800123)
  }
  tt.equal(await countMessages(app), 3, 'nothing for anyone else')
  for (const d of alice.devices) tt.same(await queued(app, d.row), [], "the sender's account got nothing")

  // The recipient's email is case-insensitive.
  const upper = await put(api, sender.token, bob.email.toUpperCase(), { messages: toEach(bob.devices, 'again') })
  tt.equal(upper.status, 200)
  tt.equal(await countMessages(app), 6)
})

t.test('409 mismatched_devices names exactly the missing and the extra devices; nothing stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 3)
  const [one, two, three] = toEach(bob.devices)
  const token = alice.devices[0].token
  const cases: [string, Outgoing[], number[], number[]][] = [
    ['one missing', [one, three], [2], []],
    ['two missing', [two], [1, 3], []],
    ['one extra', [one, two, three, { ...one, deviceId: 4 }], [], [4]],
    ['missing and extra', [one, { ...two, deviceId: 5 }, { ...three, deviceId: 9 }], [2, 3], [5, 9]],
  ]
  for (const [name, messages, missing, extra] of cases) {
    const res = await put(api, token, bob.email, { messages })
    tt.equal(res.status, 409, `${name}: status`)
    tt.same(Object.keys(res.body).sort(), ['code', 'extraDevices', 'message', 'missingDevices'], `${name}: keys`)
    tt.equal(res.body.code, 'mismatched_devices', `${name}: code`)
    tt.same([...res.body.missingDevices].sort(), missing, `${name}: missingDevices`)
    tt.same([...res.body.extraDevices].sort(), extra, `${name}: extraDevices`)
  }

  // A removed device is extra from then on.
  tt.equal((await api.delete('/v2/devices/2/', { currentPassword: PASSWORD }, { token: bob.token })).status, 204)
  const stale = await put(api, token, bob.email, { messages: [one, two, three] })
  tt.equal(stale.status, 409)
  tt.same(stale.body.missingDevices, [])
  tt.same(stale.body.extraDevices, [2])
  tt.equal(await countMessages(app), 0)
  tt.equal((await put(api, token, bob.email, { messages: [one, three] })).status, 200, 'the current set passes')
})

t.test('410 stale_devices names the devices whose registrationId is not theirs; nothing stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 3)
  const [one, two, three] = toEach(bob.devices)
  const token = alice.devices[0].token
  const cases: [string, Outgoing[], number[]][] = [
    ['one stale', [one, { ...two, registrationId: two.registrationId + 1 }, three], [2]],
    [
      "two stale, one with another device's ID",
      [{ ...one, registrationId: three.registrationId }, two, { ...three, registrationId: 1 }],
      [1, 3],
    ],
  ]
  for (const [name, messages, staleDevices] of cases) {
    const res = await put(api, token, bob.email, { messages })
    tt.equal(res.status, 410, `${name}: status`)
    tt.same(Object.keys(res.body).sort(), ['code', 'message', 'staleDevices'], `${name}: keys`)
    tt.equal(res.body.code, 'stale_devices', `${name}: code`)
    tt.same([...res.body.staleDevices].sort(), staleDevices, `${name}: staleDevices`)
  }
  const both = await put(api, token, bob.email, { messages: [{ ...one, registrationId: 1 }, two] })
  tt.equal(both.status, 409, 'the device set is checked before the registration IDs')
  tt.same(both.body.missingDevices, [3])
  tt.equal(await countMessages(app), 0)
})

t.test("writing to one's own account: the other devices, never the sender's own", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 3)
  const [one, two, three] = toEach(alice.devices, 'sync')
  const sender = alice.devices[1]

  const withSelf = await put(api, sender.token, alice.email, { messages: [one, two, three] })
  tt.equal(withSelf.status, 409, "the sender's own device is an extra")
  tt.same(withSelf.body.missingDevices, [])
  tt.same(withSelf.body.extraDevices, [2])
  const short = await put(api, sender.token, alice.email, { messages: [one] })
  tt.equal(short.status, 409)
  tt.same(short.body.missingDevices, [3])
  tt.same(short.body.extraDevices, [])
  tt.equal(await countMessages(app), 0)

  const ok = await put(api, sender.token, alice.email, { messages: [three, one] })
  tt.equal(ok.status, 200)
  tt.same(await queued(app, alice.devices[0].row), ['sync-for-1'])
  tt.same(await queued(app, alice.devices[1].row), [], 'nothing for the sender itself')
  tt.same(await queued(app, alice.devices[2].row), ['sync-for-3'])

  const lonely = await account(app, api, 1)
  const alone = await put(api, lonely.devices[0].token, lonely.email, { messages: toEach(lonely.devices) })
  tt.equal(alone.status, 409, 'a single device has no other device to sync')
  tt.same(alone.body.extraDevices, [1])
  tt.same(alone.body.missingDevices, [])
  tt.equal(await countMessages(app), 2)
})

t.test('a repeated deviceId is 400 invalid_data naming it; nothing stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 2)
  const [one, two] = toEach(bob.devices)
  const res = await put(api, alice.devices[0].token, bob.email, { messages: [one, two, { ...one, content: 'again' }] })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  tt.same(
    res.body.errors.map((e: { field: string }) => e.field),
    ['body.messages[2].deviceId'],
  )
  tt.equal(await countMessages(app), 0)
})

t.test('malformed bodies are 400 invalid_data; a bad email 400 invalid_recipient_email', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 1)
  const token = alice.devices[0].token
  const [one] = toEach(bob.devices)
  const cases: [string, unknown][] = [
    ['no messages', {}],
    ['an empty list', { messages: [] }],
    ['an empty content', { messages: [{ ...one, content: '' }] }],
    ['deviceId 0', { messages: [{ ...one, deviceId: 0 }] }],
    ['no registrationId', { messages: [{ deviceId: 1, content: 'x' }] }],
    ['a negative timestamp', { messages: [one], timestamp: -1 }],
    ['an extra field', { messages: [{ ...one, extra: 1 }] }],
  ]
  for (const [name, body] of cases) {
    const res = await put(api, token, bob.email, body)
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
  }
  const email = await put(api, token, 'not-an-email', { messages: [one] })
  tt.equal(email.status, 400)
  tt.equal(email.body.code, 'invalid_recipient_email')
  tt.equal(await countMessages(app), 0)
})

// PostgreSQL cannot store U+0000 in text; SQLite can. Both must give the same answer, never a 500
// (as the seed's device address does: 400 invalid_data naming the field).
t.test('a content with a NUL character is 400 invalid_data on every database; nothing stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 2)
  const [one, two] = toEach(bob.devices)
  const res = await put(api, alice.devices[0].token, bob.email, {
    messages: [one, { ...two, content: 'sealed\u0000bytes' }],
  })
  tt.equal(res.status, 400)
  tt.equal(res.body?.code, 'invalid_data')
  tt.same(
    res.body?.errors?.map((e: { field: string }) => e.field),
    ['body.messages[1].content'],
  )
  tt.equal(await countMessages(app), 0)
})

t.test('413 message_too_large when any one content is over maxMessageBytes (bytes); nothing stored', async (tt) => {
  const { app, api } = await build(tt, { maxMessageBytes: 16 })
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 2)
  const [one, two] = toEach(bob.devices)
  const token = alice.devices[0].token
  for (const [name, content] of [
    ['17 bytes', 'x'.repeat(17)],
    ['9 characters, 18 bytes', 'é'.repeat(9)],
  ]) {
    const res = await put(api, token, bob.email, { messages: [one, { ...two, content }] })
    tt.equal(res.status, 413, `${name}: status`)
    tt.equal(res.body.code, 'message_too_large', `${name}: code`)
  }
  tt.equal(await countMessages(app), 0)
  const exact = await put(api, token, bob.email, { messages: [one, { ...two, content: 'x'.repeat(16) }] })
  tt.equal(exact.status, 200, 'exactly maxMessageBytes is accepted')
  tt.same(await queued(app, bob.devices[1].row), ['x'.repeat(16)])
})

// The devices' messages go in one statement; a device it finds full gets the purge of its expired
// messages and one more try, as a single-device send does.
t.test('a device whose full queue holds expired messages is purged and gets its message', async (tt) => {
  const { app, config, api } = await build(tt, { maxQueuedMessages: 2, messagePurgeInterval: 0 })
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 3)
  for (let i = 0; i < 2; i++) {
    const res = await api.post(
      `/messages/${alice.registrationId}/`,
      { recipient: bob.email, message: ciphertext(bob.devices[1].registrationId) },
      { token: alice.token },
    )
    tt.equal(res.status, 201)
  }
  const full = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices) })
  tt.equal(full.status, 409, 'full while nothing has expired')
  await app.db
    .knex('messages')
    .where({ recipient_device_id: bob.devices[1].row })
    .update({ created_at: Date.now() - config.messageTtl * 1000 - 1 })
  const res = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices, 'late') })
  tt.equal(res.status, 200)
  for (const d of bob.devices) tt.same(await queued(app, d.row), [`late-for-${d.deviceId}`], `device ${d.deviceId}`)
})

t.test('409 recipient_queue_full on one device stores nothing for the others either', async (tt) => {
  const { app, api } = await build(tt, { maxQueuedMessages: 2 })
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 3)
  // Device 3's queue is full; devices 1 and 2 come first in the send.
  for (let i = 0; i < 2; i++) {
    const res = await api.post(
      `/messages/${alice.registrationId}/`,
      { recipient: bob.email, message: ciphertext(bob.devices[2].registrationId) },
      { token: alice.token },
    )
    tt.equal(res.status, 201)
  }
  const before = await countMessages(app)
  const res = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices) })
  tt.equal(res.status, 409)
  tt.equal(res.body.code, 'recipient_queue_full')
  tt.equal(await countMessages(app), before, 'nothing stored')
  tt.same(await queued(app, bob.devices[0].row), [], 'device 1: nothing')
  tt.same(await queued(app, bob.devices[1].row), [], 'device 2: nothing')

  const ids = (await api.get(`/messages/${bob.devices[2].registrationId}/`, { token: bob.devices[2].token })).body
  tt.equal(
    (await api.delete(`/messages/${bob.devices[2].registrationId}/`, [ids[0].id], { token: bob.devices[2].token }))
      .status,
    200,
  )
  const retry = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices) })
  tt.equal(retry.status, 200, 'with room again, the send passes')
  tt.equal(await countMessages(app), before - 1 + 3)
})

t.test('404 no_recipient and no_recipient_device; 403 device_required; 401 without a token', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 1)
  const deviceless = await signUp(api)
  const body = { messages: [{ deviceId: 1, registrationId: 1, content: 'x' }] }
  const token = alice.devices[0].token
  const cases: [string, string | undefined, string, number, string][] = [
    ['an unknown recipient', token, 'nobody-here@example.com', 404, 'no_recipient'],
    ['a recipient without devices', token, deviceless.email, 404, 'no_recipient_device'],
    ['an unbound token', alice.token, deviceless.email, 403, 'device_required'],
    ['no token', undefined, deviceless.email, 401, 'not_authenticated'],
  ]
  for (const [name, tok, email, status, code] of cases) {
    const res = await put(api, tok, email, body)
    tt.equal(res.status, status, `${name}: status`)
    tt.equal(res.body.code, code, `${name}: code`)
  }
  tt.equal(await countMessages(app), 0)
})

t.test('a bound reader gets senderEmail, senderDeviceId and timestamp; an unbound one the seed shape', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await account(app, api, 2)
  const bob = await account(app, api, 2)
  const sender = alice.devices[1]
  const stamped = await put(api, sender.token, bob.email, { messages: toEach(bob.devices, 'a'), timestamp: 42 })
  const plain = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices, 'b') })
  tt.equal(stamped.status, 200)
  tt.equal(plain.status, 200)

  const [phone, laptop] = bob.devices
  const bound = await api.get(`/messages/${laptop.registrationId}/`, { token: laptop.token })
  tt.equal(bound.status, 200)
  tt.equal(bound.body.length, 2)
  tt.match(bound.body[0], {
    content: 'a-for-2',
    senderEmail: alice.email,
    senderDeviceId: 2,
    senderRegistrationId: sender.registrationId,
    timestamp: 42,
  })
  tt.same(Object.keys(bound.body[0]).sort(), [...SEED_KEYS, 'senderDeviceId', 'senderEmail', 'timestamp'].sort())
  tt.match(bound.body[1], { content: 'b-for-2', senderEmail: alice.email, senderDeviceId: 1 })
  tt.same(
    Object.keys(bound.body[1]).sort(),
    [...SEED_KEYS, 'senderDeviceId', 'senderEmail'].sort(),
    'no timestamp when none was given',
  )

  const boundPhone = await api.get(`/messages/${phone.registrationId}/`, { token: phone.token })
  tt.same(
    boundPhone.body.map((m: { content: string }) => m.content),
    ['a-for-1', 'b-for-1'],
  )
  const unbound = await api.get(`/messages/${phone.registrationId}/`, { token: bob.token })
  tt.equal(unbound.status, 200)
  tt.equal(unbound.body.length, 2)
  for (const m of unbound.body) tt.same(Object.keys(m).sort(), SEED_KEYS, 'the seed shape: no sender fields')
  tt.same(
    unbound.body.map((m: { id: number }) => m.id),
    boundPhone.body.map((m: { id: number }) => m.id),
    'the same messages',
  )
})

t.test(
  'a bound reader gets sender fields on seed sends too, and null for a sender the server never knew',
  async (tt) => {
    const { app, api } = await build(tt)
    const alice = await account(app, api, 1)
    const bob = await account(app, api, 2)
    const [phone] = bob.devices
    const legacy = await api.post(
      `/messages/${alice.registrationId}/`,
      { recipient: bob.email, message: ciphertext(phone.registrationId) },
      { token: alice.token },
    )
    tt.equal(legacy.status, 201)
    tt.same(Object.keys(legacy.body).sort(), SEED_KEYS, 'POST /messages/ answers the seed shape')
    // As a message queued before the server knew senders by account (migration 0005) reads.
    await app.db.knex('messages').insert({
      recipient_device_id: phone.row,
      sender_address: 'gone.1',
      sender_registration_id: 4,
      recipient_address: bob.device.address,
      content: 'from before',
      created_at: Date.now(),
    })
    const read = await api.get(`/messages/${phone.registrationId}/`, { token: phone.token })
    tt.equal(read.status, 200)
    tt.equal(read.body.length, 2)
    tt.match(read.body[0], { id: legacy.body.id, senderEmail: alice.email, senderDeviceId: 1 })
    tt.notOk('timestamp' in read.body[0], 'no timestamp: the seed send has none')
    tt.match(read.body[1], { content: 'from before', senderEmail: null, senderDeviceId: null })
    tt.notOk('timestamp' in read.body[1])
  },
)

async function serve(tt: T, overrides: Partial<Config> = {}) {
  const built = await build(tt, overrides)
  const address = await built.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...built, address }
}

t.test('the socket pushes each stored message to its own device, with sender fields when bound', async (tt) => {
  const { app, api, address } = await serve(tt)
  const alice = await account(app, api, 1)
  const bob = await account(app, api, 3)
  const [one, two, three] = bob.devices
  // Device 1 reads with the seed's unbound token; devices 2 and 3 with their bound ones.
  const sockets = [
    await connect(tt, socketUrl(address, one.registrationId), { token: bob.token }),
    await connect(tt, socketUrl(address, two.registrationId), { token: two.token }),
    await connect(tt, socketUrl(address, three.registrationId), { token: three.token }),
  ]
  for (const s of sockets) tt.same(await s.backlog(), [])

  const res = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices), timestamp: 7 })
  tt.equal(res.status, 200)
  const ids = new Map(res.body.messages.map((m: { deviceId: number; id: number }) => [m.deviceId, m.id]))
  const pushed = await Promise.all(sockets.map(async (s) => (await s.messages(1))[0] as Record<string, unknown>))
  tt.same(Object.keys(pushed[0]).sort(), SEED_KEYS, 'unbound socket: the seed shape')
  tt.match(pushed[0], { id: ids.get(1), content: 'm-for-1' })
  for (const [i, d] of [two, three].entries()) {
    tt.match(
      pushed[i + 1],
      { id: ids.get(d.deviceId), content: `m-for-${d.deviceId}`, senderEmail: alice.email, senderDeviceId: 1 },
      `device ${d.deviceId}`,
    )
    tt.equal(pushed[i + 1].timestamp, 7)
  }

  // Each got exactly its own: a second send shows no stray frame arrived in between.
  const again = await put(api, alice.devices[0].token, bob.email, { messages: toEach(bob.devices, 'n') })
  tt.equal(again.status, 200)
  const next = await Promise.all(sockets.map(async (s) => (await s.messages(1))[0].content))
  tt.same(next, ['n-for-1', 'n-for-2', 'n-for-3'])
})

t.test('a content with a lone surrogate is refused (400), not stored altered', async (tt) => {
  const { app, api } = await build(tt)
  const bob = await userWithDevice(api)
  const alice = await userWithDevice(api)
  const login = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 1 })
  const body = { messages: [{ deviceId: 1, registrationId: bob.registrationId, content: '\ud800x' }] }
  const res = await api.request('PUT', `/v2/messages/${bob.email}/`, body, { token: login.body.auth_token })
  tt.same([res.status, res.body.code, res.body.errors?.[0]?.field], [400, 'invalid_data', 'body.messages[0].content'])
  tt.equal(Number((await app.db.knex('messages').count({ n: '*' }))[0].n), 0, 'nothing stored')
})
