import t from 'tap'
import type { FastifyInstance } from 'fastify'
import {
  build,
  buildWithMail,
  ciphertext,
  deviceBody,
  kyberPreKey,
  kyberPreKeys,
  PASSWORD,
  signedPreKey,
  signUp,
  userWithDevice,
  type Api,
} from '../helper.js'
import { connect, socketUrl, type TestSocket } from '../message-socket.js'
import { signingKeyPair } from '../signing.js'
import type { Config } from '../../lib/config.js'

// Several devices per account: POST/GET /v2/devices/, DELETE /v2/devices/{deviceId}/, and the seed's
// device, bundle and message paths on an account with more than one device.

type T = Parameters<typeof build>[0]

let nextRegistrationId = 500_000
/** A device body with a fresh registration ID (none of userWithDevice's), Kyber keys and an optional name. */
function addBody(name?: string) {
  const registrationId = ++nextRegistrationId
  const body = deviceBody(registrationId, `device-${registrationId}`, 5)
  return {
    ...body,
    pqPreKeys: kyberPreKeys(1, 2, body.identityKey),
    pqLastResortPreKey: kyberPreKey(100, body.identityKey),
    ...(name !== undefined && { name }),
  }
}

/** Adds a device through POST /v2/devices/; its number, bound token and body. */
async function addDevice(api: Api, token: string, name?: string) {
  const body = addBody(name)
  const res = await api.post('/v2/devices/', body, { token })
  if (res.status !== 201) throw new Error(`add device failed: ${res.status} ${res.text}`)
  return {
    deviceId: res.body.deviceId as number,
    token: res.body.auth_token as string,
    registrationId: body.registrationId,
    body,
  }
}

const count = async (app: FastifyInstance, table: string, where: Record<string, unknown> = {}) =>
  Number((await app.db.knex(table).where(where).count({ n: '*' }))[0].n)

/** The device row of the account's device number `deviceId`. */
const deviceRow = (app: FastifyInstance, userId: number, deviceId: number) =>
  app.db.knex('devices').where({ user_id: userId, device_id: deviceId }).first()

const deviceNumbers = async (app: FastifyInstance, userId: number) =>
  (await app.db.knex('devices').where({ user_id: userId }).orderBy('device_id').select('device_id')).map(
    (r: { device_id: number }) => r.device_id,
  )

/** How many rows of each kind belong to the device row `id`. */
async function stored(app: FastifyInstance, id: number) {
  return {
    prekeys: await count(app, 'prekeys', { device_id: id }),
    signedPreKeys: await count(app, 'signed_prekeys', { device_id: id }),
    pqPreKeys: await count(app, 'pq_prekeys', { device_id: id }),
    lastResort: await count(app, 'pq_last_resort_prekeys', { device_id: id }),
    messages: await count(app, 'messages', { recipient_device_id: id }),
    sessions: await count(app, 'sessions', { device_id: id }),
  }
}

/** The next frame of `type`, for frame types TestSocket's own typing does not list. */
const nextFrame = (s: TestSocket, type: string) =>
  (s.next as unknown as (type: string) => Promise<Record<string, unknown>>).call(s, type)

async function serve(tt: T, overrides: Partial<Config> = {}) {
  const built = await build(tt, overrides)
  const address = await built.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...built, address }
}

const removeDevice = (api: Api, token: string, deviceId: number, body?: unknown) =>
  api.delete(`/v2/devices/${deviceId}/`, body, { token })

t.test('POST /v2/devices/ numbers devices 2, 3 and stores each with its own keys', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const body = addBody('Laptop')
  const res = await api.post('/v2/devices/', body, { token: alice.token })
  tt.equal(res.status, 201)
  tt.same(Object.keys(res.body).sort(), ['auth_token', 'deviceId'])
  tt.equal(res.body.deviceId, 2)
  tt.type(res.body.auth_token, 'string')
  const row = await deviceRow(app, alice.id, 2)
  tt.match(row, {
    address: body.address,
    identity_key: body.identityKey,
    registration_id: body.registrationId,
    name: 'Laptop',
  })
  tt.same(await stored(app, row.id), {
    prekeys: 5,
    signedPreKeys: 1,
    pqPreKeys: 2,
    lastResort: 1,
    messages: 0,
    sessions: 1,
  })
  tt.not(row.identity_key, alice.device.identityKey, 'each device its own identity key')

  // Any token of the account adds a device: here the new device's own bound token.
  const third = await addDevice(api, res.body.auth_token)
  tt.equal(third.deviceId, 3)
  tt.same(await deviceNumbers(app, alice.id), [1, 2, 3])
  tt.equal((await deviceRow(app, alice.id, 1)).registration_id, alice.registrationId, 'device 1 is untouched')

  const fresh = await signUp(api)
  const first = await api.post('/v2/devices/', addBody(), { token: fresh.token })
  tt.equal(first.status, 201)
  tt.equal(first.body.deviceId, 1, "an account's first device is number 1 on this path too")
})

t.test('the token POST /v2/devices/ answers is bound to the new device', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const second = await addDevice(api, alice.token)
  const row = await deviceRow(app, alice.id, 2)
  tt.equal(await count(app, 'sessions', { device_id: row.id }), 1, 'one session, bound to device 2')

  const own = await api.get(`/messages/${second.registrationId}/`, { token: second.token })
  tt.equal(own.status, 200, "it acts for its own device's registration ID")
  tt.same(own.body, [])
  const count2 = await api.get(`/prekeys/${second.registrationId}/`, { token: second.token })
  tt.equal(count2.status, 200)
  tt.same(count2.body, { count: 5, pqCount: 2 }, "device 2's own key counts")

  for (const path of [`/messages/${alice.registrationId}/`, `/prekeys/${alice.registrationId}/`]) {
    const other = await api.get(path, { token: second.token })
    tt.equal(other.status, 403, `${path}: another device of the account`)
    tt.equal(other.body.code, 'device_changed', path)
  }
  const unbound = await api.get(`/prekeys/${alice.registrationId}/`, { token: alice.token })
  tt.same(unbound.body, { count: 10, pqCount: 0 }, "the unbound token still reads device 1's counts")
})

t.test('403 too_many_devices at MAX_DEVICES; nothing of the refused device is stored', async (tt) => {
  const { app, api } = await build(tt, { maxDevices: 2 })
  const alice = await userWithDevice(api)
  const second = await addDevice(api, alice.token)
  const before = {
    devices: await count(app, 'devices'),
    prekeys: await count(app, 'prekeys'),
    pq: await count(app, 'pq_prekeys'),
    sessions: await count(app, 'sessions'),
  }
  for (const token of [alice.token, second.token]) {
    const res = await api.post('/v2/devices/', addBody(), { token })
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'too_many_devices')
  }
  tt.same(
    {
      devices: await count(app, 'devices'),
      prekeys: await count(app, 'prekeys'),
      pq: await count(app, 'pq_prekeys'),
      sessions: await count(app, 'sessions'),
    },
    before,
  )
  tt.same(await deviceNumbers(app, alice.id), [1, 2])

  // The cap is per account: another account still adds its second device.
  const bob = await userWithDevice(api)
  tt.equal((await addDevice(api, bob.token)).deviceId, 2)
})

t.test('409 registration_id_in_use within the account only; nothing stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const second = await addDevice(api, alice.token)
  const before = { devices: await count(app, 'devices'), prekeys: await count(app, 'prekeys') }
  for (const registrationId of [alice.registrationId, second.registrationId]) {
    const res = await api.post('/v2/devices/', { ...addBody(), registrationId }, { token: alice.token })
    tt.equal(res.status, 409, `registration ID ${registrationId}`)
    tt.equal(res.body.code, 'registration_id_in_use')
  }
  tt.same({ devices: await count(app, 'devices'), prekeys: await count(app, 'prekeys') }, before)
  tt.same(await deviceNumbers(app, alice.id), [1, 2])

  const elsewhere = await api.post(
    '/v2/devices/',
    { ...addBody(), registrationId: alice.registrationId },
    {
      token: bob.token,
    },
  )
  tt.equal(elsewhere.status, 201, "another account's registration ID is fine")
  tt.equal(elsewhere.body.deviceId, 2)
})

t.test('400 invalid_signature names the field and stores nothing, not even a device number', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = {
    devices: await count(app, 'devices'),
    prekeys: await count(app, 'prekeys'),
    pq: await count(app, 'pq_prekeys'),
    sessions: await count(app, 'sessions'),
  }
  const foreignSigned = { ...addBody(), signedPreKey: signedPreKey(1) } // signed by another identity
  const badKyber = addBody()
  badKyber.pqPreKeys[1] = kyberPreKey(2, deviceBody(1).identityKey)
  for (const [body, field] of [
    [foreignSigned, 'body.signedPreKey.signature'],
    [badKyber, 'body.pqPreKeys[1].signature'],
  ] as const) {
    const res = await api.post('/v2/devices/', body, { token: alice.token })
    tt.equal(res.status, 400, field)
    tt.equal(res.body.code, 'invalid_signature', field)
    tt.same(
      res.body.errors.map((e: { field: string }) => e.field),
      [field],
    )
  }
  tt.same(
    {
      devices: await count(app, 'devices'),
      prekeys: await count(app, 'prekeys'),
      pq: await count(app, 'pq_prekeys'),
      sessions: await count(app, 'sessions'),
    },
    before,
  )
  tt.equal((await addDevice(api, alice.token)).deviceId, 2, 'a refused device took no number')
})

t.test('device ids are never reused: remove device 2, the next one is 3', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  tt.equal((await addDevice(api, alice.token)).deviceId, 2)
  tt.equal((await removeDevice(api, alice.token, 2, { currentPassword: PASSWORD })).status, 204)
  tt.same(await deviceNumbers(app, alice.id), [1])
  tt.equal((await addDevice(api, alice.token)).deviceId, 3)
  const list = await api.get('/v2/devices/', { token: alice.token })
  tt.same(
    list.body.devices.map((d: { deviceId: number }) => d.deviceId),
    [1, 3],
  )

  // The seed's path too: with every device removed, the next registration is number 4.
  tt.equal((await removeDevice(api, alice.token, 3, { currentPassword: PASSWORD })).status, 204)
  tt.equal((await api.delete('/device/', undefined, { token: alice.token })).status, 204)
  const again = await api.post('/device/', deviceBody(alice.registrationId), { token: alice.token })
  tt.equal(again.status, 201)
  tt.equal(again.body.deviceId, 4)
})

/** A mail's body as text: quoted-printable already undone by the capture; base64 undone here. */
function mailBody(mail: { text: string }): { headers: string; body: string } {
  const split = mail.text.search(/\r?\n\r?\n/)
  const headers = mail.text.slice(0, split)
  let body = mail.text.slice(split).trim()
  if (/content-transfer-encoding:\s*base64/i.test(headers)) body = Buffer.from(body, 'base64').toString('utf8')
  return { headers, body }
}

t.test('adding a device mails the account its number, name and time, and no key material', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  tt.equal(smtp.mails.length, 0, 'registering the first device with POST /device/ mails nothing')

  const body = addBody('Work laptop')
  const res = await api.post('/v2/devices/', body, { token: alice.token })
  tt.equal(res.status, 201)
  const mail = await smtp.next(alice.email)
  tt.same(mail.to, [alice.email.toLowerCase()], 'to the account only')
  const { headers, body: text } = mailBody(mail)
  tt.match(headers, /^Subject: .*a new device was added/im)
  tt.match(text, /Work laptop/, 'its name')
  tt.match(text, /number 2\b/, 'its number')
  const secrets = [
    body.identityKey,
    body.signedPreKey.publicKey,
    body.signedPreKey.signature,
    ...body.preKeys.map((k) => k.publicKey),
    ...body.pqPreKeys.map((k) => k.publicKey.slice(0, 40)),
    body.pqLastResortPreKey.publicKey.slice(0, 40),
    res.body.auth_token,
  ]
  for (const secret of secrets) {
    tt.notOk(mail.raw.includes(secret) || text.includes(secret), `the mail does not carry ${secret.slice(0, 12)}…`)
  }
  tt.equal(smtp.mails.filter((m) => m.to.includes(bob.email.toLowerCase())).length, 0, 'nothing to others')

  // Without a name the mail says so; every added device is mailed.
  const before = smtp.mails.length
  await addDevice(api, alice.token)
  const unnamed = mailBody(await smtp.next(alice.email, before))
  tt.match(unnamed.body, /number 3\b/)
  tt.match(unnamed.body, /without a name/)
})

t.test('POST /device/ after every device was removed is news: it is mailed too', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const alice = await userWithDevice(api)
  tt.equal((await api.delete('/device/', undefined, { token: alice.token })).status, 204)
  tt.equal(smtp.mails.length, 0)
  const res = await api.post('/device/', deviceBody(alice.registrationId + 1), { token: alice.token })
  tt.equal(res.status, 201)
  tt.equal(res.body.deviceId, 2)
  const { headers } = mailBody(await smtp.next(alice.email))
  tt.match(headers, /^Subject: .*a new device was added/im)
})

t.test('GET /v2/devices/ lists the devices by number; name null when unset; days and times in ISO', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token, 'Laptop')
  const tablet = await addDevice(api, alice.token, 'Tablet 🙂')
  const before = Date.now()
  const list = await api.get('/v2/devices/', { token: alice.token })
  tt.equal(list.status, 200)
  tt.same(
    list.body.devices.map((d: { deviceId: number; registrationId: number; name: string | null }) => ({
      deviceId: d.deviceId,
      registrationId: d.registrationId,
      name: d.name,
    })),
    [
      { deviceId: 1, registrationId: alice.registrationId, name: null },
      { deviceId: 2, registrationId: laptop.registrationId, name: 'Laptop' },
      { deviceId: 3, registrationId: tablet.registrationId, name: 'Tablet 🙂' },
    ],
  )
  for (const d of list.body.devices as { deviceId: number; created: string; lastSeen: string }[]) {
    tt.equal(new Date(d.created).toISOString(), d.created, `device ${d.deviceId}: created is ISO 8601`)
    tt.match(d.lastSeen, /^\d{4}-\d\d-\d\dT00:00:00\.000Z$/, `device ${d.deviceId}: lastSeen is a UTC midnight`)
    const created = Date.parse(d.created)
    const seen = Date.parse(d.lastSeen)
    tt.ok(seen <= created && created - seen < 86_400_000, `device ${d.deviceId}: lastSeen is the day it was created`)
    tt.ok(created <= before, `device ${d.deviceId}: created is not in the future`)
  }
  const row = await deviceRow(app, alice.id, 2)
  tt.equal(list.body.devices[1].created, new Date(Number(row.created_at)).toISOString())

  const bound = await api.get('/v2/devices/', { token: laptop.token })
  tt.same(bound.body, list.body, 'a bound token lists the same devices')
  const bobs = await api.get('/v2/devices/', { token: bob.token })
  tt.same(
    bobs.body.devices.map((d: { registrationId: number }) => d.registrationId),
    [bob.registrationId],
    'another account sees only its own',
  )
  const none = await api.get('/v2/devices/', { token: (await signUp(api)).token })
  tt.same(none.body, { devices: [] })
  const anon = await api.get('/v2/devices/')
  tt.equal(anon.status, 401)
  tt.equal(anon.body.code, 'not_authenticated')
})

// PostgreSQL cannot store U+0000 in text; SQLite can. Both must give the same answer, not a 500,
// as for the address.
t.test(
  'a device name of up to 100 characters is kept exactly; longer or with NUL is 400 on every database',
  async (tt) => {
    const { app, api } = await build(tt)
    const alice = await userWithDevice(api)
    const emoji = '🙂'.repeat(100) // 100 characters, 200 UTF-16 units
    const ok = await api.post('/v2/devices/', addBody(emoji), { token: alice.token })
    tt.equal(ok.status, 201, '100 characters')
    const listed = await api.get('/v2/devices/', { token: alice.token })
    tt.equal(listed.body.devices[1].name, emoji, 'listed exactly')

    for (const [label, name] of [
      ['101 characters', 'a'.repeat(101)],
      ['a NUL character', 'work\u0000laptop'],
    ]) {
      const res = await api.post('/v2/devices/', addBody(name), { token: alice.token })
      tt.equal(res.status, 400, `${label}: status`)
      tt.equal(res.body?.code, 'invalid_data', `${label}: code`)
      tt.same(
        res.body?.errors?.map((e: { field: string }) => e.field),
        ['body.name'],
        `${label}: names body.name`,
      )
    }
    tt.same(await deviceNumbers(app, alice.id), [1, 2], 'nothing more stored')
  },
)

t.test('lastSeen moves to today when the device acts, and only that device', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  const day = 86_400_000
  const longAgo = Date.now() - (Date.now() % day) - 10 * day
  await app.db.knex('devices').where({ user_id: alice.id }).update({ last_seen_at: longAgo })
  const listed = async () =>
    (await api.get('/v2/devices/', { token: alice.token })).body.devices.map((d: { lastSeen: string }) => d.lastSeen)
  const old = new Date(longAgo).toISOString()
  tt.same(await listed(), [old, old], 'listing is not acting for a device')

  const from = Date.now() - (Date.now() % day)
  tt.equal((await api.get(`/messages/${laptop.registrationId}/`, { token: laptop.token })).status, 200)
  const to = Date.now() - (Date.now() % day)
  const [first, second] = await listed()
  tt.equal(first, old, 'device 1 did not act')
  tt.ok([from, to].map((ms) => new Date(ms).toISOString()).includes(second), `device 2 seen today: ${second}`)
})

t.test('DELETE /v2/devices/{deviceId}/ needs the password: a wrong or missing one removes nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  const tablet = await addDevice(api, alice.token)
  for (const [name, token, body] of [
    ['a wrong password', alice.token, { currentPassword: 'not-the-password-123' }],
    ['no password', alice.token, {}],
    ['no body', alice.token, undefined],
    ["another device's bound token without a password", tablet.token, undefined],
  ] as const) {
    const res = await removeDevice(api, token, laptop.deviceId, body)
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_password', `${name}: code`)
  }
  tt.same(await deviceNumbers(app, alice.id), [1, 2, 3], 'nothing removed')

  const ok = await removeDevice(api, tablet.token, laptop.deviceId, { currentPassword: PASSWORD })
  tt.equal(ok.status, 204, "another device's bound token with the password")
  tt.equal(ok.text, '')
  tt.same(await deviceNumbers(app, alice.id), [1, 3])
  const byPassword = await removeDevice(api, alice.token, 1, { currentPassword: PASSWORD })
  tt.equal(byPassword.status, 204, 'an unbound token with the password, even device 1')
  tt.same(await deviceNumbers(app, alice.id), [3])
})

t.test("a device's own bound token removes it without a password", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  const res = await removeDevice(api, laptop.token, laptop.deviceId)
  tt.equal(res.status, 204)
  tt.same(await deviceNumbers(app, alice.id), [1])
})

// A device with a signingKey: "a stolen auth token alone cannot act for the device" (openapi.yaml,
// signingKey). DELETE /device/ refuses its bound token without a Signature; removing the same device
// through DELETE /v2/devices/{deviceId}/ without a password must not be the way around that.
t.test("a signing device's bound token alone removes it on neither path", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const key = signingKeyPair()
  const add = await api.post('/v2/devices/', { ...addBody(), signingKey: key.publicKey }, { token: alice.token })
  tt.equal(add.status, 201)
  const token = add.body.auth_token as string
  const legacy = await api.delete('/device/', undefined, { token })
  tt.equal(legacy.status, 401, 'DELETE /device/ without a Signature')
  tt.equal(legacy.body.code, 'invalid_request_signature')
  const v2 = await removeDevice(api, token, 2)
  tt.same([v2.status, v2.body?.code], [401, 'invalid_request_signature'], 'DELETE /v2/devices/2/ refuses alike')
  tt.same(await deviceNumbers(app, alice.id), [1, 2], 'device 2 stays')
  const withPassword = await removeDevice(api, alice.token, 2, { currentPassword: PASSWORD })
  tt.equal(withPassword.status, 204, 'the account password still removes it')
})

t.test('DELETE /v2/devices/{deviceId}/ for an id the account does not have: 404 no_device', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  await addDevice(api, bob.token)
  for (const deviceId of [2, 99]) {
    const res = await removeDevice(api, alice.token, deviceId, { currentPassword: PASSWORD })
    tt.equal(res.status, 404, `device ${deviceId}`)
    tt.equal(res.body.code, 'no_device')
  }
  const wrong = await removeDevice(api, alice.token, 99, { currentPassword: 'not-the-password-123' })
  tt.equal(wrong.status, 400, 'the password is checked first')
  tt.equal(wrong.body.code, 'invalid_password')
  tt.same(await deviceNumbers(app, bob.id), [1, 2], "bob's device 2 is not alice's to remove")
  tt.same(await deviceNumbers(app, alice.id), [1])
})

t.test('removing a device ends its bound sessions and deletes its keys and queue, only its own', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  const laptopRow = await deviceRow(app, alice.id, laptop.deviceId)
  const firstRow = await deviceRow(app, alice.id, 1)
  for (const registrationId of [laptop.registrationId, alice.registrationId]) {
    const sent = await api.post(
      `/messages/${bob.registrationId}/`,
      { recipient: alice.email, message: ciphertext(registrationId) },
      { token: bob.token },
    )
    tt.equal(sent.status, 201)
  }
  const boundLogin = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 2 })
  tt.equal(boundLogin.status, 200)
  tt.same(await stored(app, laptopRow.id), {
    prekeys: 5,
    signedPreKeys: 1,
    pqPreKeys: 2,
    lastResort: 1,
    messages: 1,
    sessions: 2,
  })
  const firstBefore = await stored(app, firstRow.id)
  tt.equal(firstBefore.messages, 1)

  tt.equal((await removeDevice(api, alice.token, 2, { currentPassword: PASSWORD })).status, 204)
  tt.same(await stored(app, laptopRow.id), {
    prekeys: 0,
    signedPreKeys: 0,
    pqPreKeys: 0,
    lastResort: 0,
    messages: 0,
    sessions: 0,
  })
  tt.same(await stored(app, firstRow.id), firstBefore, "device 1's keys and queue are untouched")
  for (const token of [laptop.token, boundLogin.body.auth_token]) {
    const res = await api.get('/v2/devices/', { token })
    tt.equal(res.status, 401, 'a token bound to the removed device')
    tt.equal(res.body.code, 'not_authenticated')
  }
  tt.equal((await api.get('/v2/devices/', { token: alice.token })).status, 200, 'the unbound token lives on')
})

t.test('removal closes the removed device socket with 4404; the other devices hear devices_changed', async (tt) => {
  const { api, address } = await serve(tt)
  const alice = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  const phone = await connect(tt, socketUrl(address, alice.registrationId), { token: alice.token })
  tt.same(await phone.backlog(), [])
  const laptopSocket = await connect(tt, socketUrl(address, laptop.registrationId), { token: laptop.token })
  tt.same(await laptopSocket.backlog(), [])

  // Adding a device is told to the connected ones.
  const tablet = await addDevice(api, alice.token)
  tt.same(await nextFrame(phone, 'devices_changed'), { type: 'devices_changed' }, 'phone: added')
  tt.same(await nextFrame(laptopSocket, 'devices_changed'), { type: 'devices_changed' }, 'laptop: added')

  tt.equal((await removeDevice(api, alice.token, laptop.deviceId, { currentPassword: PASSWORD })).status, 204)
  tt.equal((await laptopSocket.closed).code, 4404, 'the removed device: 4404')
  tt.same(
    laptopSocket.frames.filter((f) => (f.type as string) === 'devices_changed'),
    [],
    'the removed device is not told, it is closed',
  )
  tt.same(await nextFrame(phone, 'devices_changed'), { type: 'devices_changed' }, 'phone: removed')
  tt.equal(phone.ws.readyState, phone.ws.OPEN, 'the other device stays connected')

  // The seed's DELETE /device/ with a bound token tells the others as well.
  tt.equal((await api.delete('/device/', undefined, { token: tablet.token })).status, 204)
  tt.same(await nextFrame(phone, 'devices_changed'), { type: 'devices_changed' }, 'phone: removed by DELETE /device/')
})

t.test('the per-account lockout counts wrong passwords on DELETE /v2/devices/', async (tt) => {
  const { app, api } = await build(tt, { lockoutThreshold: 3 })
  const alice = await userWithDevice(api)
  await addDevice(api, alice.token)
  for (let i = 0; i < 3; i++) {
    const res = await removeDevice(api, alice.token, 2, { currentPassword: `wrong-password-${i}` })
    tt.equal(res.status, 400, `wrong password ${i + 1}`)
    tt.equal(res.body.code, 'invalid_password')
  }
  const right = await removeDevice(api, alice.token, 2, { currentPassword: PASSWORD })
  tt.equal(right.status, 400, 'locked: the right password is refused too')
  tt.equal(right.body.code, 'invalid_password')
  tt.same(await deviceNumbers(app, alice.id), [1, 2], 'nothing removed')
  const login = await api.post('/auth/login/', { email: alice.email, password: PASSWORD })
  tt.equal(login.status, 400, 'the login shares the lockout')
  tt.equal(login.body.code, 'invalid_credentials')

  const other = await userWithDevice(api)
  await addDevice(api, other.token)
  tt.equal(
    (await removeDevice(api, other.token, 2, { currentPassword: PASSWORD })).status,
    204,
    'per account: another account is not locked',
  )
})

t.test('legacy DELETE /device/ on a multi-device account', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  const tablet = await addDevice(api, alice.token)
  const unbound = await api.delete('/device/', undefined, { token: alice.token })
  tt.equal(unbound.status, 409, 'an unbound token cannot say which')
  tt.equal(unbound.body.code, 'several_devices')
  tt.same(await deviceNumbers(app, alice.id), [1, 2, 3], 'nothing removed')

  const bound = await api.delete('/device/', undefined, { token: laptop.token })
  tt.equal(bound.status, 204)
  tt.same(await deviceNumbers(app, alice.id), [1, 3], 'the bound token removed its own device only')
  tt.equal((await api.delete('/device/', undefined, { token: laptop.token })).status, 401, 'its token ended')

  tt.equal((await api.delete('/device/', undefined, { token: tablet.token })).status, 204)
  tt.same(await deviceNumbers(app, alice.id), [1])
  tt.equal((await api.delete('/device/', undefined, { token: alice.token })).status, 204, 'the only device')
  tt.same(await deviceNumbers(app, alice.id), [])
})

t.test('legacy POST /device/: deviceId 1 on a fresh account, 403 device_exists on one with devices', async (tt) => {
  const { app, api } = await build(tt)
  const fresh = await signUp(api)
  const first = await api.post('/device/', deviceBody(4242), { token: fresh.token })
  tt.equal(first.status, 201)
  tt.same(first.body, { code: 'device_created', message: first.body.message, deviceId: 1 })

  const alice = await userWithDevice(api)
  const laptop = await addDevice(api, alice.token)
  for (const token of [alice.token, laptop.token]) {
    const res = await api.post('/device/', addBody(), { token })
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'device_exists')
  }
  tt.same(await deviceNumbers(app, alice.id), [1, 2])
  tt.equal(await count(app, 'devices'), 3)
})

t.test("legacy GET /prekeybundle/ answers the recipient's lowest-numbered device", async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const laptop = await addDevice(api, bob.token)
  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(bundle.status, 200)
  tt.match(bundle.body, { registrationId: bob.registrationId, identityKey: bob.device.identityKey })
  tt.notOk('deviceId' in bundle.body, 'the seed shape')

  tt.equal((await removeDevice(api, bob.token, 1, { currentPassword: PASSWORD })).status, 204)
  const after = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(after.status, 200)
  tt.match(after.body, {
    registrationId: laptop.registrationId,
    identityKey: laptop.body.identityKey,
    address: laptop.body.address,
  })
})

t.test('legacy POST /messages/ reaches the device whose registrationId is in the ciphertext', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const laptop = await addDevice(api, bob.token)
  const laptopRow = await deviceRow(app, bob.id, 2)
  const content = ciphertext(laptop.registrationId)
  const res = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: content },
    { token: alice.token },
  )
  tt.equal(res.status, 201)
  tt.equal(res.body.recipientAddress, laptop.body.address)
  const rows = await app.db.knex('messages').select('recipient_device_id', 'content')
  tt.same(rows, [{ recipient_device_id: laptopRow.id, content }])
  tt.same(
    (await api.get(`/messages/${laptop.registrationId}/`, { token: laptop.token })).body.map(
      (m: { id: number }) => m.id,
    ),
    [res.body.id],
  )
  tt.same((await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })).body, [], 'device 1 got nothing')

  const none = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: ciphertext(laptop.registrationId + 1) },
    { token: alice.token },
  )
  tt.equal(none.status, 403, 'no device of bob has that registration ID')
  tt.equal(none.body.code, 'recipient_identity_changed')
  tt.equal(await count(app, 'messages'), 1)
})

t.test("an unbound token acts for the account's device the path's registrationId names", async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const laptop = await addDevice(api, bob.token)
  const toLaptop = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: ciphertext(laptop.registrationId) },
    { token: alice.token },
  )
  const toPhone = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: ciphertext(bob.registrationId) },
    { token: alice.token },
  )
  const ids = (res: { body: { id: number }[] }) => res.body.map((m) => m.id)
  tt.same(ids(await api.get(`/messages/${laptop.registrationId}/`, { token: bob.token })), [toLaptop.body.id])
  tt.same(ids(await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })), [toPhone.body.id])
  const counts = await api.get(`/prekeys/${laptop.registrationId}/`, { token: bob.token })
  tt.same(counts.body, { count: 5, pqCount: 2 }, "device 2's keys")
  const deleted = await api.delete(`/messages/${laptop.registrationId}/`, [toLaptop.body.id, toPhone.body.id], {
    token: bob.token,
  })
  tt.equal(deleted.body[0], 'message_deleted')
  tt.equal(deleted.body[1].code, 'non-existant_message', "device 1's message is not in device 2's queue")

  const unknown = await api.get(`/messages/${laptop.registrationId + 7}/`, { token: bob.token })
  tt.equal(unknown.status, 403, 'no device of the account has it')
  tt.equal(unknown.body.code, 'device_changed')
})
