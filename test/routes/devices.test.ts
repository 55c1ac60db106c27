import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, ciphertext, deviceBody, publicKey, signUp, userWithDevice } from '../helper.js'

/** Everything stored for a user's device, to prove a request changed nothing (or exactly what it should). */
async function deviceState(app: FastifyInstance, userId: number) {
  const knex = app.db.knex
  const device = await knex('devices').where({ user_id: userId }).first()
  if (!device) return undefined
  return {
    device,
    preKeys: await knex('prekeys').where({ device_id: device.id }).orderBy('key_id').select('key_id', 'public_key'),
    signedPreKeys: await knex('signed_prekeys')
      .where({ device_id: device.id })
      .select('key_id', 'public_key', 'signature'),
    messages: await knex('messages').where({ recipient_device_id: device.id }).orderBy('id').select('id', 'content'),
  }
}

const keyOf = (bytes: number[]) => Buffer.from(bytes).toString('base64')
const key = (typeByte: number, length: number) => keyOf([typeByte, ...randomBytes(length - 1)])

t.test('POST /device/ registers the device with its identity, signed prekey and prekeys', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await signUp(api)
  const body = deviceBody(4321, 'alice.1', 7)
  const res = await api.post('/device/', body, { token: alice.token })
  tt.equal(res.status, 201)
  tt.equal(res.body.code, 'device_created')
  tt.type(res.body.message, 'string')

  const state = await deviceState(app, alice.id)
  tt.ok(state, 'a device row exists')
  tt.match(state!.device, { address: 'alice.1', identity_key: body.identityKey, registration_id: 4321 })
  tt.same(
    state!.preKeys,
    body.preKeys.map((k) => ({ key_id: k.keyId, public_key: k.publicKey })),
  )
  tt.same(state!.signedPreKeys, [
    {
      key_id: body.signedPreKey.keyId,
      public_key: body.signedPreKey.publicKey,
      signature: body.signedPreKey.signature,
    },
  ])
})

t.test('POST /device without trailing slash and with no prekeys at all is accepted', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await signUp(api)
  const res = await api.post('/device', { ...deviceBody(77), preKeys: [] }, { token: alice.token })
  tt.equal(res.status, 201)
  tt.equal((await deviceState(app, alice.id))!.preKeys.length, 0)
})

t.test('a second POST /device/ is 403 device_exists and changes nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = await deviceState(app, alice.id)
  const res = await api.post('/device/', deviceBody(alice.registrationId + 1, 'other', 3), { token: alice.token })
  tt.equal(res.status, 403)
  tt.equal(res.body.code, 'device_exists')
  tt.same(await deviceState(app, alice.id), before)
  tt.equal(Number((await app.db.knex('devices').count({ n: '*' }))[0].n), 1)
})

t.test('two concurrent registrations for one user: one 201, one device_exists, one device', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await signUp(api)
  const results = await Promise.all([
    api.post('/device/', deviceBody(501, 'a', 5), { token: alice.token }),
    api.post('/device/', deviceBody(502, 'b', 5), { token: alice.token }),
  ])
  tt.same(results.map((r) => r.status).sort(), [201, 403])
  tt.equal(results.find((r) => r.status === 403)!.body.code, 'device_exists')
  const winner = results[0].status === 201 ? 501 : 502
  const state = await deviceState(app, alice.id)
  tt.equal(state!.device.registration_id, winner)
  tt.equal(state!.preKeys.length, 5, "only the winner's prekeys are stored")
  tt.equal(Number((await app.db.knex('prekeys').count({ n: '*' }))[0].n), 5)
})

t.test('key fields and ids at the edges of their ranges are accepted', async (tt) => {
  const { app, api } = await build(tt)
  const high = await signUp(api)
  const body = {
    ...deviceBody(999999),
    preKeys: [
      { keyId: 0, publicKey: publicKey() },
      { keyId: 2147483647, publicKey: publicKey() },
    ],
  }
  body.signedPreKey.keyId = 2147483647
  tt.equal((await api.post('/device/', body, { token: high.token })).status, 201)
  tt.same(
    (await deviceState(app, high.id))!.preKeys.map((k: { key_id: number }) => k.key_id),
    [0, 2147483647],
  )

  const low = await signUp(api)
  const lowBody = deviceBody(0)
  lowBody.signedPreKey.keyId = 0
  tt.equal((await api.post('/device/', lowBody, { token: low.token })).status, 201)
})

t.test('malformed keys and ids are 400 invalid_data naming the field, and no device is stored', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  type Body = ReturnType<typeof deviceBody> & Record<string, unknown>
  const cases: [string, (b: Body) => void, string][] = [
    ['identityKey of 32 bytes', (b) => (b.identityKey = key(5, 32)), 'body.identityKey'],
    ['identityKey of 34 bytes', (b) => (b.identityKey = key(5, 34)), 'body.identityKey'],
    ['identityKey with type byte 0x06', (b) => (b.identityKey = key(6, 33)), 'body.identityKey'],
    ['identityKey with type byte 0x00', (b) => (b.identityKey = key(0, 33)), 'body.identityKey'],
    ['identityKey in base64url', (b) => (b.identityKey = 'BQ' + '_'.repeat(42)), 'body.identityKey'],
    ['identityKey not a string', (b) => ((b as Record<string, unknown>).identityKey = 5), 'body.identityKey'],
    ['prekey publicKey of 32 bytes', (b) => (b.preKeys[0].publicKey = key(5, 32)), 'body.preKeys[0].publicKey'],
    [
      'signed prekey publicKey with type byte 0x07',
      (b) => (b.signedPreKey.publicKey = key(7, 33)),
      'body.signedPreKey.publicKey',
    ],
    [
      'signature of 63 bytes',
      (b) => (b.signedPreKey.signature = randomBytes(63).toString('base64')),
      'body.signedPreKey.signature',
    ],
    [
      'signature of 65 bytes',
      (b) => (b.signedPreKey.signature = randomBytes(65).toString('base64')),
      'body.signedPreKey.signature',
    ],
    [
      'signature without padding',
      (b) => (b.signedPreKey.signature = randomBytes(64).toString('base64').slice(0, 86)),
      'body.signedPreKey.signature',
    ],
    ['keyId 2147483648', (b) => (b.preKeys[1].keyId = 2147483648), 'body.preKeys[1].keyId'],
    ['keyId -1', (b) => (b.preKeys[0].keyId = -1), 'body.preKeys[0].keyId'],
    ['keyId 1.5', (b) => (b.preKeys[0].keyId = 1.5), 'body.preKeys[0].keyId'],
    ['keyId as a string', (b) => ((b.preKeys[0] as Record<string, unknown>).keyId = '1'), 'body.preKeys[0].keyId'],
    ['keyId as a boolean', (b) => ((b.preKeys[0] as Record<string, unknown>).keyId = true), 'body.preKeys[0].keyId'],
    ['signed prekey keyId 2147483648', (b) => (b.signedPreKey.keyId = 2147483648), 'body.signedPreKey.keyId'],
    ['registrationId 1000000', (b) => (b.registrationId = 1000000), 'body.registrationId'],
    ['registrationId -1', (b) => (b.registrationId = -1), 'body.registrationId'],
    ['registrationId 2.5', (b) => (b.registrationId = 2.5), 'body.registrationId'],
    [
      'registrationId as a string',
      (b) => ((b as Record<string, unknown>).registrationId = '1234'),
      'body.registrationId',
    ],
    ['registrationId null', (b) => ((b as Record<string, unknown>).registrationId = null), 'body.registrationId'],
    ['an extra top-level field', (b) => (b.extra = 1), 'body.extra'],
    [
      'an extra field in a prekey',
      (b) => ((b.preKeys[0] as Record<string, unknown>).extra = 1),
      'body.preKeys[0].extra',
    ],
    [
      'an extra field in the signed prekey',
      (b) => ((b.signedPreKey as Record<string, unknown>).extra = 1),
      'body.signedPreKey.extra',
    ],
    [
      'no signature',
      (b) => delete (b.signedPreKey as Partial<typeof b.signedPreKey>).signature,
      'body.signedPreKey.signature',
    ],
    ['no signedPreKey', (b) => delete (b as Partial<Body>).signedPreKey, 'body.signedPreKey'],
    ['no address', (b) => delete (b as Partial<Body>).address, 'body.address'],
    ['an empty address', (b) => (b.address = ''), 'body.address'],
    ['an address of 129 characters', (b) => (b.address = 'a'.repeat(129)), 'body.address'],
    [
      'preKeys not an array',
      (b) => ((b as Record<string, unknown>).preKeys = { keyId: 1, publicKey: publicKey() }),
      'body.preKeys',
    ],
  ]
  for (const [name, mutate, field] of cases) {
    const body = deviceBody(1234, 'user.1', 3) as Body
    mutate(body)
    const res = await api.post('/device/', body, { token: user.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.same(
      [...new Set((res.body.errors ?? []).map((e: { field: string }) => e.field))],
      [field],
      `${name}: names ${field}`,
    )
  }
  tt.equal(await deviceState(app, user.id), undefined, 'no device row was created')
  tt.equal(Number((await app.db.knex('prekeys').count({ n: '*' }))[0].n), 0)
})

// PostgreSQL cannot store U+0000 in text; SQLite can. Both must give the same answer, not a 500.
t.test('an address containing a NUL character is 400 invalid_data on every database', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const res = await api.post('/device/', deviceBody(1234, 'alice\u0000.1'), { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  tt.same(
    res.body.errors?.map((e: { field: string }) => e.field),
    ['body.address'],
  )
  tt.equal(await deviceState(app, user.id), undefined)
})

t.test('every invalid field is named, not just the first', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const body = deviceBody(1234)
  body.identityKey = key(6, 33)
  body.preKeys[2].keyId = -5
  body.signedPreKey.signature = 'short'
  const res = await api.post('/device/', body, { token: user.token })
  tt.equal(res.status, 400)
  const fields = new Set(res.body.errors.map((e: { field: string }) => e.field))
  tt.same([...fields].sort(), ['body.identityKey', 'body.preKeys[2].keyId', 'body.signedPreKey.signature'])
})

t.test('a body that is not JSON is refused and stores nothing', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const form = await api.post('/device/', undefined, { token: user.token, form: { address: 'a' } })
  tt.equal(form.status, 415)
  tt.equal(form.body.code, 'unsupported_media_type')
  const broken = await api.post('/device/', undefined, {
    token: user.token,
    raw: '{"address":',
    headers: { 'content-type': 'application/json' },
  })
  tt.equal(broken.status, 400)
  tt.equal(broken.body.code, 'parse_error')
  const empty = await api.post('/device/', undefined, {
    token: user.token,
    headers: { 'content-type': 'application/json' },
    raw: '',
  })
  tt.equal(empty.status, 400)
  tt.equal(empty.body.code, 'invalid_data')
  tt.equal(await deviceState(app, user.id), undefined)
})

t.test('more prekeys than maxPrekeys is 400 reached_max_prekeys and no device row', async (tt) => {
  const { app, api } = await build(tt, { maxPrekeys: 5 })
  const user = await signUp(api)
  const res = await api.post('/device/', deviceBody(1234, 'user.1', 6), { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'reached_max_prekeys')
  tt.equal(await deviceState(app, user.id), undefined)
  tt.equal(Number((await app.db.knex('signed_prekeys').count({ n: '*' }))[0].n), 0)

  const atLimit = await api.post('/device/', deviceBody(1234, 'user.1', 5), { token: user.token })
  tt.equal(atLimit.status, 201, 'exactly maxPrekeys is allowed')
  tt.equal((await deviceState(app, user.id))!.preKeys.length, 5)
})

t.test('with the default limit, 101 prekeys is reached_max_prekeys and 100 is fine', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const over = await api.post('/device/', deviceBody(1234, 'user.1', 101), { token: user.token })
  tt.equal(over.status, 400)
  tt.equal(over.body.code, 'reached_max_prekeys')
  tt.equal(await deviceState(app, user.id), undefined)
  tt.equal((await api.post('/device/', deviceBody(1234, 'user.1', 100), { token: user.token })).status, 201)
})

t.test('duplicate keyIds in the body are 400 prekey_id_exists and no device row', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const body = deviceBody(1234, 'user.1', 4)
  body.preKeys[3].keyId = body.preKeys[1].keyId
  const res = await api.post('/device/', body, { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'prekey_id_exists')
  tt.equal(await deviceState(app, user.id), undefined)
  tt.equal(Number((await app.db.knex('prekeys').count({ n: '*' }))[0].n), 0)
  tt.equal(Number((await app.db.knex('signed_prekeys').count({ n: '*' }))[0].n), 0)
})

t.test('DELETE /device/ is 204 and removes its prekeys, signed prekey and queued messages only', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  for (let i = 0; i < 2; i++) {
    const toBob = await api.post(
      `/messages/${alice.registrationId}/`,
      { recipient: bob.email, message: ciphertext(bob.registrationId) },
      { token: alice.token },
    )
    tt.equal(toBob.status, 201)
  }
  const toAlice = await api.post(
    `/messages/${bob.registrationId}/`,
    { recipient: alice.email, message: ciphertext(alice.registrationId) },
    { token: bob.token },
  )
  tt.equal(toAlice.status, 201)
  const bobDeviceId = (await deviceState(app, bob.id))!.device.id
  const aliceBefore = await deviceState(app, alice.id)

  const res = await api.delete('/device/', undefined, { token: bob.token })
  tt.equal(res.status, 204)
  tt.equal(res.text, '')
  const knex = app.db.knex
  tt.equal(await deviceState(app, bob.id), undefined)
  tt.equal((await knex('prekeys').where({ device_id: bobDeviceId })).length, 0, 'prekeys gone')
  tt.equal((await knex('signed_prekeys').where({ device_id: bobDeviceId })).length, 0, 'signed prekey gone')
  tt.equal((await knex('messages').where({ recipient_device_id: bobDeviceId })).length, 0, 'queued messages gone')
  tt.same(await deviceState(app, alice.id), aliceBefore, "alice's device, keys and queue are untouched")

  const inbox = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.equal(inbox.status, 404)
  tt.equal(inbox.body.code, 'no_device')
  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(bundle.status, 404)
  tt.equal(bundle.body.code, 'no_recipient_device')
})

t.test('DELETE /device/ without a device is 404 no_device', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const res = await api.delete('/device/', undefined, { token: user.token })
  tt.equal(res.status, 404)
  tt.equal(res.body.code, 'no_device')

  const alice = await userWithDevice(api)
  tt.equal((await api.delete('/device', undefined, { token: alice.token })).status, 204)
  const again = await api.delete('/device/', undefined, { token: alice.token })
  tt.equal(again.status, 404, 'a second delete finds nothing')
  tt.equal(again.body.code, 'no_device')
})

t.test('after DELETE /device/ a new device can be registered, with the same keyIds', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  tt.equal((await api.delete('/device/', undefined, { token: bob.token })).status, 204)

  const fresh = deviceBody(bob.registrationId + 5000, 'bob.2', 10)
  const res = await api.post('/device/', fresh, { token: bob.token })
  tt.equal(res.status, 201)
  tt.equal(res.body.code, 'device_created')
  const state = await deviceState(app, bob.id)
  tt.equal(state!.device.identity_key, fresh.identityKey)
  tt.same(
    state!.preKeys.map((k: { public_key: string }) => k.public_key),
    fresh.preKeys.map((k) => k.publicKey),
  )

  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(bundle.status, 200)
  tt.match(bundle.body, {
    address: 'bob.2',
    identityKey: fresh.identityKey,
    registrationId: fresh.registrationId,
    signedPreKey: fresh.signedPreKey,
  })
  const old = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.equal(old.status, 403, 'the old registration ID is no longer this user device')
  tt.equal(old.body.code, 'device_changed')
})

t.test('device operations without a valid token are 401 not_authenticated and change nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = await deviceState(app, alice.id)
  for (const token of [undefined, 'not-a-token', alice.token + 'x']) {
    const create = await api.post('/device/', deviceBody(55), { token })
    tt.equal(create.status, 401)
    tt.equal(create.body.code, 'not_authenticated')
    const del = await api.delete('/device/', undefined, { token })
    tt.equal(del.status, 401)
    tt.equal(del.body.code, 'not_authenticated')
  }
  tt.same(await deviceState(app, alice.id), before)
  tt.equal(Number((await app.db.knex('devices').count({ n: '*' }))[0].n), 1)
})

t.test('the seed clients\' "Authorization: Token" scheme works for devices', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const res = await api.post('/device/', deviceBody(66), { headers: { authorization: `Token ${user.token}` } })
  tt.equal(res.status, 201)
  tt.ok(await deviceState(app, user.id))
})
