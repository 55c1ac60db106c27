import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, preKeys, publicKey, signedPreKey, signUp, userWithDevice } from '../helper.js'

/** The device's stored one-time prekeys as {keyId: publicKey}, straight from the table. */
async function storedPreKeys(app: FastifyInstance, userId: number): Promise<Record<number, string>> {
  const rows = await app.db
    .knex('prekeys')
    .join('devices', 'devices.id', 'prekeys.device_id')
    .where('devices.user_id', userId)
    .select('prekeys.key_id', 'prekeys.public_key')
  return Object.fromEntries(rows.map((r: { key_id: number; public_key: string }) => [r.key_id, r.public_key]))
}

async function storedSignedPreKeys(app: FastifyInstance, userId: number) {
  return app.db
    .knex('signed_prekeys')
    .join('devices', 'devices.id', 'signed_prekeys.device_id')
    .where('devices.user_id', userId)
    .select('signed_prekeys.key_id as keyId', 'signed_prekeys.public_key as publicKey', 'signed_prekeys.signature')
}

const count = async (app: FastifyInstance, userId: number) => Object.keys(await storedPreKeys(app, userId)).length

t.test('POST /prekeys/<registrationId>/ stores the batch: 200 prekeys_stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const batch = preKeys(11, 5)
  const res = await api.post(`/prekeys/${alice.registrationId}/`, batch, { token: alice.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.code, 'prekeys_stored')
  tt.type(res.body.message, 'string')
  const stored = await storedPreKeys(app, alice.id)
  tt.equal(Object.keys(stored).length, 15)
  for (const k of batch) tt.equal(stored[k.keyId], k.publicKey, `keyId ${k.keyId} stored with its key`)

  const noSlash = await api.post(`/prekeys/${alice.registrationId}`, preKeys(16, 1), { token: alice.token })
  tt.equal(noSlash.status, 200, 'the path works without its trailing slash')
  tt.equal(await count(app, alice.id), 16)
})

t.test('uploads may fill up to exactly 100; one more is reached_max_prekeys and stores nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api) // 10 prekeys, keyIds 1..10
  const fill = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 90), { token: alice.token })
  tt.equal(fill.status, 200)
  tt.equal(await count(app, alice.id), 100)

  const over = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(101, 1), { token: alice.token })
  tt.equal(over.status, 400)
  tt.equal(over.body.code, 'reached_max_prekeys')
  tt.equal(await count(app, alice.id), 100)
})

t.test('a batch that would pass the limit is refused whole, not stored up to the limit', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = await storedPreKeys(app, alice.id)
  const res = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 91), { token: alice.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'reached_max_prekeys')
  tt.same(await storedPreKeys(app, alice.id), before)
})

t.test('the limit follows the maxPrekeys setting', async (tt) => {
  const { app, api } = await build(tt, { maxPrekeys: 20 })
  const alice = await userWithDevice(api) // 10 prekeys
  const over = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 11), { token: alice.token })
  tt.equal(over.status, 400)
  tt.equal(over.body.code, 'reached_max_prekeys')
  tt.equal(await count(app, alice.id), 10)
  const fits = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 10), { token: alice.token })
  tt.equal(fits.status, 200)
  tt.equal(await count(app, alice.id), 20)
  const full = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(21, 1), { token: alice.token })
  tt.equal(full.status, 400)
  tt.equal(full.body.code, 'reached_max_prekeys')
})

t.test('claimed prekeys free room under the limit again', async (tt) => {
  const { app, api } = await build(tt, { maxPrekeys: 10 })
  const alice = await userWithDevice(api) // full: 10 of 10
  const bob = await userWithDevice(api)
  tt.equal(
    (await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 1), { token: alice.token })).body.code,
    'reached_max_prekeys',
  )
  tt.equal((await api.get(`/prekeybundle/${alice.email}/${bob.registrationId}/`, { token: bob.token })).status, 200)
  tt.equal((await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 1), { token: alice.token })).status, 200)
  tt.equal(await count(app, alice.id), 10)
})

t.test('a keyId repeated within the batch is prekey_id_exists and nothing of the batch is stored', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = await storedPreKeys(app, alice.id)
  const batch = preKeys(11, 4)
  batch[3].keyId = 12
  const res = await api.post(`/prekeys/${alice.registrationId}/`, batch, { token: alice.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'prekey_id_exists')
  tt.same(await storedPreKeys(app, alice.id), before)
})

t.test('a keyId already stored is prekey_id_exists; the batch is not stored and the old key is kept', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api) // keyIds 1..10
  const before = await storedPreKeys(app, alice.id)
  const batch = [...preKeys(50, 3), { keyId: 4, publicKey: publicKey() }]
  const res = await api.post(`/prekeys/${alice.registrationId}/`, batch, { token: alice.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'prekey_id_exists')
  tt.same(await storedPreKeys(app, alice.id), before, 'keyIds 50..52 are not stored, keyId 4 keeps its key')
})

t.test("another device's keyIds do not clash", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api) // also keyIds 1..10
  tt.equal((await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 1), { token: alice.token })).status, 200)
  tt.equal((await api.post(`/prekeys/${bob.registrationId}/`, preKeys(11, 1), { token: bob.token })).status, 200)
  tt.equal(await count(app, bob.id), 11)
})

t.test('uploading for a registrationId other than your device is 403 device_changed', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const before = await storedPreKeys(app, alice.id)
  const bobBefore = await storedPreKeys(app, bob.id)
  for (const id of [alice.registrationId + 1, bob.registrationId]) {
    const res = await api.post(`/prekeys/${id}/`, preKeys(11, 2), { token: alice.token })
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'device_changed')
  }
  tt.same(await storedPreKeys(app, alice.id), before)
  tt.same(await storedPreKeys(app, bob.id), bobBefore, "nothing lands on bob's device either")
})

t.test('uploading without a device is 404 no_device', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const res = await api.post('/prekeys/1234/', preKeys(1, 2), { token: user.token })
  tt.equal(res.status, 404)
  tt.equal(res.body.code, 'no_device')
  tt.equal(Number((await app.db.knex('prekeys').count({ n: '*' }))[0].n), 0)
})

t.test('malformed uploads are 400 invalid_data naming the field', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = await storedPreKeys(app, alice.id)
  const cases: [string, unknown, string][] = [
    ['an empty list', [], 'body'],
    ['an object instead of a list', { keyId: 11, publicKey: publicKey() }, 'body'],
    [
      'a publicKey with type byte 0x06',
      [{ keyId: 11, publicKey: Buffer.from([6, ...Buffer.alloc(32, 1)]).toString('base64') }],
      'body[0].publicKey',
    ],
    ['a keyId of 2^31', [...preKeys(11, 1), { keyId: 2147483648, publicKey: publicKey() }], 'body[1].keyId'],
    ['a keyId as a string', [{ keyId: '11', publicKey: publicKey() }], 'body[0].keyId'],
    ['an extra field', [{ ...preKeys(11, 1)[0], extra: true }], 'body[0].extra'],
    ['no publicKey', [{ keyId: 11 }], 'body[0].publicKey'],
  ]
  for (const [name, body, field] of cases) {
    const res = await api.post(`/prekeys/${alice.registrationId}/`, body, { token: alice.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.same([...new Set(res.body.errors.map((e: { field: string }) => e.field))], [field], `${name}: names ${field}`)
  }
  for (const bad of ['abc', '1000000', '-1']) {
    const res = await api.post(`/prekeys/${bad}/`, preKeys(11, 1), { token: alice.token })
    tt.equal(res.status, 400, `registrationId ${bad} in the path`)
    tt.equal(res.body.code, 'invalid_data')
    tt.same(
      res.body.errors.map((e: { field: string }) => e.field),
      ['params.registrationId'],
    )
  }
  tt.same(await storedPreKeys(app, alice.id), before)
})

t.test('concurrent uploads cannot together pass the limit', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api) // 10 stored; each batch of 60 fits alone, not both
  const results = await Promise.all([
    api.post(`/prekeys/${alice.registrationId}/`, preKeys(100, 60), { token: alice.token }),
    api.post(`/prekeys/${alice.registrationId}/`, preKeys(200, 60), { token: alice.token }),
  ])
  tt.same(results.map((r) => r.status).sort(), [200, 400])
  tt.equal(results.find((r) => r.status === 400)!.body.code, 'reached_max_prekeys')
  tt.equal(await count(app, alice.id), 70)
})

t.test('concurrent uploads of the same keyIds: one is stored, the other is prekey_id_exists', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const first = preKeys(100, 5)
  const second = preKeys(102, 5) // overlaps 102..104
  const results = await Promise.all([
    api.post(`/prekeys/${alice.registrationId}/`, first, { token: alice.token }),
    api.post(`/prekeys/${alice.registrationId}/`, second, { token: alice.token }),
  ])
  tt.same(results.map((r) => r.status).sort(), [200, 400])
  tt.equal(results.find((r) => r.status === 400)!.body.code, 'prekey_id_exists')
  const winner = results[0].status === 200 ? first : second
  const stored = await storedPreKeys(app, alice.id)
  tt.equal(Object.keys(stored).length, 15)
  for (const k of winner) tt.equal(stored[k.keyId], k.publicKey)
})

t.test('POST /signedprekey/<registrationId>/ replaces the signed prekey and the next bundle carries it', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const fresh = signedPreKey(2, bob.device.identityKey)
  const res = await api.post(`/signedprekey/${bob.registrationId}/`, fresh, { token: bob.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.code, 'signed_prekey_stored')
  tt.type(res.body.message, 'string')
  tt.same(await storedSignedPreKeys(app, bob.id), [fresh], 'exactly one signed prekey, the new one')

  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(bundle.status, 200)
  tt.same(bundle.body.signedPreKey, fresh)

  // Replacing with the same keyId but new material also takes effect.
  const again = signedPreKey(2, bob.device.identityKey)
  tt.equal((await api.post(`/signedprekey/${bob.registrationId}`, again, { token: bob.token })).status, 200)
  tt.same(await storedSignedPreKeys(app, bob.id), [again])
  tt.same(
    (await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })).body.signedPreKey,
    again,
  )
})

t.test('signed prekey errors: device_changed, no_device, invalid_data; nothing replaced', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const before = await storedSignedPreKeys(app, alice.id)

  const changed = await api.post(
    `/signedprekey/${alice.registrationId + 1}/`,
    signedPreKey(2, alice.device.identityKey),
    { token: alice.token },
  )
  tt.equal(changed.status, 403)
  tt.equal(changed.body.code, 'device_changed')

  const loner = await signUp(api)
  const none = await api.post(`/signedprekey/${alice.registrationId}/`, signedPreKey(2), { token: loner.token })
  tt.equal(none.status, 404)
  tt.equal(none.body.code, 'no_device')

  const cases: [string, unknown, string][] = [
    [
      'a signature of 63 bytes',
      { ...signedPreKey(2), signature: Buffer.alloc(63, 7).toString('base64') },
      'body.signature',
    ],
    [
      'a publicKey of 32 bytes',
      { ...signedPreKey(2), publicKey: Buffer.from([5, ...Buffer.alloc(31, 1)]).toString('base64') },
      'body.publicKey',
    ],
    ['a keyId of -1', { ...signedPreKey(2), keyId: -1 }, 'body.keyId'],
    ['a keyId of 1.5', { ...signedPreKey(2), keyId: 1.5 }, 'body.keyId'],
    ['an extra field', { ...signedPreKey(2), extra: 'x' }, 'body.extra'],
    ['no signature', { keyId: 2, publicKey: publicKey() }, 'body.signature'],
  ]
  for (const [name, body, field] of cases) {
    const res = await api.post(`/signedprekey/${alice.registrationId}/`, body, { token: alice.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.same([...new Set(res.body.errors.map((e: { field: string }) => e.field))], [field], `${name}: names ${field}`)
  }
  tt.same(await storedSignedPreKeys(app, alice.id), before)
})

t.test('key uploads without a valid token are 401 not_authenticated and change nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const prekeysBefore = await storedPreKeys(app, alice.id)
  const signedBefore = await storedSignedPreKeys(app, alice.id)
  for (const token of [undefined, 'garbage']) {
    const up = await api.post(`/prekeys/${alice.registrationId}/`, preKeys(11, 1), { token })
    tt.equal(up.status, 401)
    tt.equal(up.body.code, 'not_authenticated')
    const signed = await api.post(`/signedprekey/${alice.registrationId}/`, signedPreKey(2, alice.device.identityKey), {
      token,
    })
    tt.equal(signed.status, 401)
    tt.equal(signed.body.code, 'not_authenticated')
  }
  tt.same(await storedPreKeys(app, alice.id), prekeysBefore)
  tt.same(await storedSignedPreKeys(app, alice.id), signedBefore)
})
