import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, deviceBody, kyberPreKey, kyberPreKeys, publicKey, signUp, userWithDevice, type Api } from '../helper.js'

type Kyber = ReturnType<typeof kyberPreKey>
type User = Awaited<ReturnType<typeof signUp>>

/** The device's stored Kyber keys, straight from the tables. */
async function storedPq(app: FastifyInstance, userId: number) {
  const device = await app.db.knex('devices').where({ user_id: userId }).first()
  const toKey = (r: { key_id: number; public_key: string; signature: string }) => ({
    keyId: r.key_id,
    publicKey: r.public_key,
    signature: r.signature,
  })
  const oneTime = await app.db
    .knex('pq_prekeys')
    .where({ device_id: device?.id ?? -1 })
    .orderBy('key_id')
  const lastResort = await app.db.knex('pq_last_resort_prekeys').where({ device_id: device?.id ?? -1 })
  return { oneTime: oneTime.map(toKey), lastResort: lastResort.map(toKey) }
}

const pqTotal = async (app: FastifyInstance) => ({
  oneTime: Number((await app.db.knex('pq_prekeys').count({ n: '*' }))[0].n),
  lastResort: Number((await app.db.knex('pq_last_resort_prekeys').count({ n: '*' }))[0].n),
})

const byKeyId = (keys: Kyber[]) => [...keys].sort((a, b) => a.keyId - b.keyId)

/** A signed-up user with a device carrying the given Kyber keys. */
async function pqUser(
  api: Api,
  registrationId: number,
  pqPreKeys?: (identity: string) => Kyber[],
  lastResort?: (identity: string) => Kyber,
) {
  const user = await signUp(api)
  const body = deviceBody(registrationId, `${user.email}.1`, 10)
  const device = {
    ...body,
    ...(pqPreKeys && { pqPreKeys: pqPreKeys(body.identityKey) }),
    ...(lastResort && { pqLastResortPreKey: lastResort(body.identityKey) }),
  }
  const res = await api.post('/device/', device, { token: user.token })
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${res.text}`)
  return { ...user, registrationId, device }
}

function client(api: Api, caller: { registrationId: number; token: string }) {
  return {
    claim: (email: string) =>
      api.get(`/prekeybundle/${encodeURIComponent(email)}/${caller.registrationId}/`, { token: caller.token }),
    count: async () => (await api.get(`/prekeys/${caller.registrationId}/`, { token: caller.token })).body,
    upload: (body: unknown, opts: { token?: string; registrationId?: number } = {}) =>
      api.post(`/pqprekeys/${opts.registrationId ?? caller.registrationId}/`, body, {
        token: 'token' in opts ? opts.token : caller.token,
      }),
  }
}

t.test('a device registered with Kyber keys stores them; one without gets bundles without pqPreKey', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await pqUser(
    api,
    5001,
    (id) => kyberPreKeys(1, 7, id),
    (id) => kyberPreKey(900, id),
  )
  tt.same(await client(api, bob).count(), { count: 10, pqCount: 7 }, 'the last-resort key is not counted')
  tt.same(await storedPq(app, bob.id), { oneTime: bob.device.pqPreKeys, lastResort: [bob.device.pqLastResortPreKey] })

  tt.same(await client(api, alice).count(), { count: 10, pqCount: 0 }, 'a seed-style device has no Kyber keys')
  for (let i = 0; i < 11; i++) {
    const res = await client(api, bob).claim(alice.email)
    tt.equal(res.status, 200)
    tt.notOk('pqPreKey' in res.body, `claim ${i + 1}: no pqPreKey key at all`)
  }
})

t.test('bundles hand out each one-time Kyber key exactly once, then the last-resort one, kept', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  // Uploaded out of keyId order, so the test does not depend on which one the server picks first.
  const bob = await pqUser(
    api,
    5002,
    (id) => [7, 3, 42, 1, 19, 5].map((k) => kyberPreKey(k, id)),
    (id) => kyberPreKey(77, id),
  )
  const claimed: Kyber[] = []
  for (let i = 0; i < 6; i++) {
    const res = await client(api, alice).claim(bob.email)
    tt.equal(res.status, 200)
    const { lastResort, ...key } = res.body.pqPreKey
    tt.equal(lastResort, false, `claim ${i + 1} is one-time`)
    claimed.push(key)
    tt.same(await client(api, bob).count(), { count: 9 - i, pqCount: 5 - i })
  }
  tt.equal(new Set(claimed.map((k) => k.keyId)).size, 6, 'no keyId twice')
  tt.same(byKeyId(claimed), byKeyId(bob.device.pqPreKeys!), 'exactly the uploaded keys, with their keys and signatures')

  for (let i = 0; i < 3; i++) {
    const res = await client(api, alice).claim(bob.email)
    tt.equal(res.status, 200)
    tt.same(
      res.body.pqPreKey,
      { ...bob.device.pqLastResortPreKey, lastResort: true },
      `claim ${i + 7}: the last-resort key`,
    )
  }
  tt.same(
    await storedPq(app, bob.id),
    { oneTime: [], lastResort: [bob.device.pqLastResortPreKey] },
    'the last-resort key is never consumed',
  )
  tt.same(await client(api, bob).count(), { count: 1, pqCount: 0 })
})

t.test('one-time Kyber keys without a last-resort one: bundles lose pqPreKey once they run out', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await pqUser(api, 5003, (id) => kyberPreKeys(1, 2, id))
  const seen: number[] = []
  for (let i = 0; i < 2; i++) seen.push((await client(api, alice).claim(bob.email)).body.pqPreKey.keyId)
  tt.same(seen.sort(), [1, 2])
  const empty = await client(api, alice).claim(bob.email)
  tt.equal(empty.status, 200)
  tt.notOk('pqPreKey' in empty.body)
  tt.ok(empty.body.preKey, 'the EC prekeys are unaffected')
})

t.test('POST /pqprekeys/ adds one-time keys and replaces the last-resort one', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await pqUser(
    api,
    5004,
    (identity) => kyberPreKeys(1, 2, identity),
    (identity) => kyberPreKey(900, identity),
  )
  const id = bob.device.identityKey
  const more = kyberPreKeys(10, 3, id)
  const res = await client(api, bob).upload({ pqPreKeys: more })
  tt.equal(res.status, 200)
  tt.equal(res.body.code, 'pq_prekeys_stored')
  tt.same(await client(api, bob).count(), { count: 10, pqCount: 5 })
  tt.same(
    await storedPq(app, bob.id),
    { oneTime: [...bob.device.pqPreKeys!, ...more], lastResort: [bob.device.pqLastResortPreKey] },
    'the last-resort key is kept',
  )

  const fresh = kyberPreKey(901, id)
  tt.equal(
    (
      await client(api, bob).upload(
        { pqPreKeys: kyberPreKeys(20, 1, id), pqLastResortPreKey: fresh },
        { registrationId: bob.registrationId },
      )
    ).status,
    200,
  )
  tt.same(await client(api, bob).count(), { count: 10, pqCount: 6 })
  for (let i = 0; i < 6; i++)
    tt.equal((await client(api, alice).claim(bob.email)).body.pqPreKey.lastResort, false, 'one-time keys go first')
  tt.same(
    (await client(api, alice).claim(bob.email)).body.pqPreKey,
    { ...fresh, lastResort: true },
    'the new last-resort key',
  )

  const alone = kyberPreKey(902, id)
  const onlyLastResort = await client(api, bob).upload({ pqPreKeys: [], pqLastResortPreKey: alone })
  tt.equal(onlyLastResort.status, 200, 'an empty list with a last-resort key is fine')
  tt.same((await client(api, alice).claim(bob.email)).body.pqPreKey, { ...alone, lastResort: true })
  tt.same((await storedPq(app, bob.id)).lastResort, [alone], 'one last-resort key per device')

  // A seed-style device may start using Kyber keys later.
  const late = kyberPreKey(5, alice.device.identityKey)
  tt.equal((await client(api, alice).upload({ pqPreKeys: [], pqLastResortPreKey: late })).status, 200)
  tt.same((await client(api, bob).claim(alice.email)).body.pqPreKey, { ...late, lastResort: true })
})

t.test('POST /pqprekeys/ body errors are 400 invalid_data naming the field; nothing stored', async (tt) => {
  // A storage limit well above 100, so only the per-request maxItems can refuse 101 keys.
  const { app, api } = await build(tt, { maxPrekeys: 1000 })
  const bob = await pqUser(
    api,
    5005,
    (identity) => kyberPreKeys(1, 2, identity),
    (identity) => kyberPreKey(900, identity),
  )
  const id = bob.device.identityKey
  const before = await storedPq(app, bob.id)
  const good = kyberPreKey(10, id)
  const wrongType = Buffer.from(good.publicKey, 'base64')
  wrongType[0] = 0x05
  const short = Buffer.from(good.publicKey, 'base64').subarray(0, 1568)
  const cases: [string, unknown, string][] = [
    ['an empty list alone', { pqPreKeys: [] }, 'body.pqPreKeys'],
    ['no pqPreKeys', { pqLastResortPreKey: kyberPreKey(901, id) }, 'body.pqPreKeys'],
    ['101 keys', { pqPreKeys: kyberPreKeys(100, 101, id) }, 'body.pqPreKeys'],
    [
      'a Kyber key with type byte 0x05',
      { pqPreKeys: [{ ...good, publicKey: wrongType.toString('base64') }] },
      'body.pqPreKeys[0].publicKey',
    ],
    [
      'a Kyber key one byte short',
      { pqPreKeys: [good, { ...good, keyId: 11, publicKey: short.toString('base64') }] },
      'body.pqPreKeys[1].publicKey',
    ],
    [
      'a Curve25519 key as Kyber key',
      { pqPreKeys: [{ ...good, publicKey: publicKey() }] },
      'body.pqPreKeys[0].publicKey',
    ],
    [
      'a bad last-resort key',
      { pqPreKeys: [good], pqLastResortPreKey: { ...good, publicKey: short.toString('base64') } },
      'body.pqLastResortPreKey.publicKey',
    ],
    [
      'a Kyber key without signature',
      { pqPreKeys: [{ keyId: 10, publicKey: good.publicKey }] },
      'body.pqPreKeys[0].signature',
    ],
    ['a keyId of 2^31', { pqPreKeys: [{ ...good, keyId: 2 ** 31 }] }, 'body.pqPreKeys[0].keyId'],
    ['an extra field', { pqPreKeys: [good], extra: 1 }, 'body.extra'],
    ['a bare list', [good], 'body'],
  ]
  for (const [name, body, field] of cases) {
    const res = await client(api, bob).upload(body)
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.same([...new Set(res.body.errors.map((e: { field: string }) => e.field))], [field], `${name}: names ${field}`)
  }
  tt.same(await storedPq(app, bob.id), before)
  tt.equal(
    (await client(api, bob).upload({ pqPreKeys: kyberPreKeys(100, 100, id) })).status,
    200,
    'exactly 100 in one request is allowed',
  )
})

t.test('POST /pqprekeys/ limits: reached_max_prekeys and prekey_id_exists, all or nothing', async (tt) => {
  const { app, api } = await build(tt, { maxPrekeys: 10 })
  const bob = await pqUser(
    api,
    5006,
    (identity) => kyberPreKeys(1, 4, identity),
    (identity) => kyberPreKey(900, identity),
  )
  const id = bob.device.identityKey
  const c = client(api, bob)
  const refused = async (name: string, body: unknown, code: string) => {
    const before = await storedPq(app, bob.id)
    const res = await c.upload(body)
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, code, `${name}: code`)
    tt.same(await storedPq(app, bob.id), before, `${name}: nothing stored, last-resort key not replaced`)
  }
  await refused(
    '7 more over 4 stored',
    { pqPreKeys: kyberPreKeys(10, 7, id), pqLastResortPreKey: kyberPreKey(901, id) },
    'reached_max_prekeys',
  )
  await refused(
    'a keyId repeated in the batch',
    { pqPreKeys: [...kyberPreKeys(10, 2, id), kyberPreKey(10, id)], pqLastResortPreKey: kyberPreKey(901, id) },
    'prekey_id_exists',
  )
  await refused(
    'a keyId already stored',
    { pqPreKeys: [...kyberPreKeys(10, 2, id), kyberPreKey(3, id)], pqLastResortPreKey: kyberPreKey(901, id) },
    'prekey_id_exists',
  )

  tt.equal((await c.upload({ pqPreKeys: kyberPreKeys(10, 6, id) })).status, 200, 'up to the limit exactly')
  tt.same(await c.count(), { count: 10, pqCount: 10 })
  await refused('one more when full', { pqPreKeys: kyberPreKeys(20, 1, id) }, 'reached_max_prekeys')
  tt.equal(
    (await c.upload({ pqPreKeys: [], pqLastResortPreKey: kyberPreKey(901, id) })).status,
    200,
    'the last-resort key does not count against the limit',
  )
  tt.same(await c.count(), { count: 10, pqCount: 10 })

  // EC and Kyber keyIds are separate spaces: EC keyIds 1..10 are stored and do not clash.
  const alice = await userWithDevice(api, { preKeyCount: 0 })
  tt.equal((await client(api, alice).upload({ pqPreKeys: kyberPreKeys(1, 1, alice.device.identityKey) })).status, 200)
  tt.equal(
    (
      await api.post(`/prekeys/${alice.registrationId}/`, [{ keyId: 1, publicKey: publicKey() }], {
        token: alice.token,
      })
    ).status,
    200,
  )
})

t.test('POST /pqprekeys/ device and token errors: 403 device_changed, 404 no_device, 401', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const body = { pqPreKeys: kyberPreKeys(1, 1, alice.device.identityKey) }
  for (const registrationId of [alice.registrationId + 1, bob.registrationId]) {
    const res = await client(api, alice).upload(body, { registrationId })
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'device_changed')
  }
  const loner = await signUp(api)
  const none = await client(api, { registrationId: alice.registrationId, token: loner.token }).upload(body)
  tt.equal(none.status, 404)
  tt.equal(none.body.code, 'no_device')
  for (const token of [undefined, 'garbage']) {
    const res = await client(api, alice).upload(body, { token })
    tt.equal(res.status, 401)
    tt.equal(res.body.code, 'not_authenticated')
  }
  tt.same(await pqTotal(app), { oneTime: 0, lastResort: 0 })
})

t.test(
  'POST /device/ Kyber limits: prekey_id_exists, reached_max_prekeys, too many items; nothing stored',
  async (tt) => {
    const { app, api } = await build(tt, { maxPrekeys: 10 })
    const user: User = await signUp(api)
    const body = deviceBody(5007, 'u.1', 3)
    const id = body.identityKey
    const cases: [string, unknown, number, string][] = [
      [
        'a repeated Kyber keyId',
        { ...body, pqPreKeys: [...kyberPreKeys(1, 3, id), kyberPreKey(2, id)] },
        400,
        'prekey_id_exists',
      ],
      ['11 Kyber keys over a limit of 10', { ...body, pqPreKeys: kyberPreKeys(1, 11, id) }, 400, 'reached_max_prekeys'],
      ['101 Kyber keys', { ...body, pqPreKeys: kyberPreKeys(1, 101, id) }, 400, 'invalid_data'],
      [
        'a short Kyber last-resort key',
        { ...body, pqLastResortPreKey: { ...kyberPreKey(1, id), publicKey: publicKey() } },
        400,
        'invalid_data',
      ],
    ]
    for (const [name, device, status, code] of cases) {
      const res = await api.post('/device/', device, { token: user.token })
      tt.equal(res.status, status, `${name}: status`)
      tt.equal(res.body.code, code, `${name}: code`)
      tt.equal(await app.db.knex('devices').where({ user_id: user.id }).first(), undefined, `${name}: no device`)
    }
    tt.same(await pqTotal(app), { oneTime: 0, lastResort: 0 })
    tt.equal(
      (
        await api.post(
          '/device/',
          { ...body, pqPreKeys: kyberPreKeys(1, 10, id), pqLastResortPreKey: kyberPreKey(100, id) },
          { token: user.token },
        )
      ).status,
      201,
      'exactly the limit',
    )
    tt.same(await pqTotal(app), { oneTime: 10, lastResort: 1 })
  },
)

t.test('DELETE /device/ takes its Kyber keys along; a new device starts from its own', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await pqUser(
    api,
    5008,
    (id) => kyberPreKeys(1, 3, id),
    (id) => kyberPreKey(900, id),
  )
  tt.equal((await api.delete('/device/', undefined, { token: bob.token })).status, 204)
  tt.same(await pqTotal(app), { oneTime: 0, lastResort: 0 })

  const body = { ...deviceBody(5009, 'bob.2', 1) }
  tt.equal((await api.post('/device/', body, { token: bob.token })).status, 201)
  const again = { ...bob, registrationId: 5009 }
  tt.same(await client(api, again).count(), { count: 1, pqCount: 0 })
  const bundle = await client(api, alice).claim(bob.email)
  tt.notOk('pqPreKey' in bundle.body, "none of the old device's Kyber keys is handed out")
})
