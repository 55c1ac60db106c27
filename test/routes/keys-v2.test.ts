import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, deviceBody, kyberPreKey, kyberPreKeys, PASSWORD, signUp, userWithDevice, type Api } from '../helper.js'

// GET /v2/keys/{email}/{deviceId|*}/: a bundle per device, each claim atomic as the seed's bundle.

let nextRegistrationId = 800_000

/**
 * Bob with device 1 (POST /device/: 10 one-time EC prekeys, no Kyber keys) and `more` devices from
 * POST /v2/devices/, each with its own identity key, 2 EC prekeys, 1 one-time Kyber prekey and a
 * last-resort one (keyId 100).
 */
async function bobWithDevices(api: Api, more: number) {
  const bob = await userWithDevice(api)
  const added = []
  for (let i = 0; i < more; i++) {
    const registrationId = ++nextRegistrationId
    const base = deviceBody(registrationId, `${bob.email}.${i + 2}`, 2)
    const body = {
      ...base,
      pqPreKeys: kyberPreKeys(1, 1, base.identityKey),
      pqLastResortPreKey: kyberPreKey(100, base.identityKey),
    }
    const res = await api.post('/v2/devices/', body, { token: bob.token })
    if (res.status !== 201) throw new Error(`add device failed: ${res.status} ${res.text}`)
    added.push({ deviceId: res.body.deviceId as number, token: res.body.auth_token as string, body })
  }
  return { ...bob, added }
}

const keysOf = (api: Api, token: string, email: string, which: string | number) =>
  api.get(`/v2/keys/${email}/${which}/`, { token })

/** How many one-time keys of each kind the account's devices hold, by device number. */
async function oneTimeCounts(app: FastifyInstance, userId: number) {
  const devices = await app.db.knex('devices').where({ user_id: userId }).orderBy('device_id')
  const out: Record<number, [number, number]> = {}
  for (const d of devices) {
    const ec = Number((await app.db.knex('prekeys').where({ device_id: d.id }).count({ n: '*' }))[0].n)
    const pq = Number((await app.db.knex('pq_prekeys').where({ device_id: d.id }).count({ n: '*' }))[0].n)
    out[d.device_id] = [ec, pq]
  }
  return out
}

t.test("GET /v2/keys/{email}/*/ answers every device's bundle by number, each with its own keys", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await bobWithDevices(api, 2)
  const [two, three] = bob.added
  const res = await keysOf(api, alice.token, bob.email, '*')
  tt.equal(res.status, 200)
  tt.same(res.body, {
    devices: [
      {
        deviceId: 1,
        registrationId: bob.registrationId,
        address: bob.device.address,
        identityKey: bob.device.identityKey,
        signedPreKey: bob.device.signedPreKey,
        preKey: bob.device.preKeys[0],
      },
      ...[two, three].map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.body.registrationId,
        address: d.body.address,
        identityKey: d.body.identityKey,
        signedPreKey: d.body.signedPreKey,
        preKey: d.body.preKeys[0],
        pqPreKey: { ...d.body.pqPreKeys[0], lastResort: false },
      })),
    ],
  })
  tt.equal(new Set(res.body.devices.map((d: { identityKey: string }) => d.identityKey)).size, 3, 'three identities')
  tt.same(await oneTimeCounts(app, bob.id), { 1: [9, 0], 2: [1, 0], 3: [1, 0] }, 'one of each claimed per device')
})

t.test('one-time keys are consumed; the last-resort Kyber key is handed out when they run out', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await bobWithDevices(api, 2)
  const [two] = bob.added
  const summary = (body: { devices: { deviceId: number; preKey?: { keyId: number }; pqPreKey?: unknown }[] }) =>
    body.devices.map((d) => ({
      deviceId: d.deviceId,
      preKey: d.preKey?.keyId ?? null,
      pqPreKey: (d.pqPreKey as { keyId: number; lastResort: boolean } | undefined) ?? null,
    }))

  const first = await keysOf(api, alice.token, bob.email, '*')
  const pqOne = (d: (typeof bob.added)[number]) => ({ ...d.body.pqPreKeys[0], lastResort: false })
  const lastResort = (d: (typeof bob.added)[number]) => ({ ...d.body.pqLastResortPreKey, lastResort: true })
  tt.same(summary(first.body), [
    { deviceId: 1, preKey: 1, pqPreKey: null },
    { deviceId: 2, preKey: 1, pqPreKey: pqOne(two) },
    { deviceId: 3, preKey: 1, pqPreKey: pqOne(bob.added[1]) },
  ])
  const second = await keysOf(api, alice.token, bob.email, '*')
  tt.same(
    summary(second.body),
    [
      { deviceId: 1, preKey: 2, pqPreKey: null },
      { deviceId: 2, preKey: 2, pqPreKey: lastResort(two) },
      { deviceId: 3, preKey: 2, pqPreKey: lastResort(bob.added[1]) },
    ],
    'the next keyIds; Kyber one-time keys gone, so the last resort',
  )
  const third = await keysOf(api, alice.token, bob.email, 2)
  tt.same(
    summary(third.body),
    [{ deviceId: 2, preKey: null, pqPreKey: lastResort(two) }],
    'no EC prekey left: none in the bundle; the last resort is kept and handed out again',
  )
  tt.same(await oneTimeCounts(app, bob.id), { 1: [8, 0], 2: [0, 0], 3: [0, 0] })
  tt.equal(
    Number((await app.db.knex('pq_last_resort_prekeys').count({ n: '*' }))[0].n),
    2,
    'last-resort keys are never consumed',
  )
})

t.test('GET /v2/keys/{email}/{n}/ answers that device only and claims only its keys', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await bobWithDevices(api, 2)
  const three = bob.added[1]
  const res = await keysOf(api, alice.token, bob.email, 3)
  tt.equal(res.status, 200)
  tt.same(res.body, {
    devices: [
      {
        deviceId: 3,
        registrationId: three.body.registrationId,
        address: three.body.address,
        identityKey: three.body.identityKey,
        signedPreKey: three.body.signedPreKey,
        preKey: three.body.preKeys[0],
        pqPreKey: { ...three.body.pqPreKeys[0], lastResort: false },
      },
    ],
  })
  tt.same(await oneTimeCounts(app, bob.id), { 1: [10, 0], 2: [2, 1], 3: [1, 0] })
  const one = await keysOf(api, alice.token, bob.email, 1)
  tt.same(
    one.body.devices.map((d: { deviceId: number; registrationId: number }) => [d.deviceId, d.registrationId]),
    [[1, bob.registrationId]],
  )
})

t.test("works with another account's token, a deviceless one's, and the recipient's unbound one", async (tt) => {
  const { api } = await build(tt)
  const bob = await bobWithDevices(api, 1)
  const deviceless = await signUp(api)
  const alice = await userWithDevice(api)
  const aliceBound = await api.post('/auth/login/', { email: alice.email, password: PASSWORD, deviceId: 1 })
  for (const [name, token] of [
    ["another account's bound token", aliceBound.body.auth_token as string],
    ['a deviceless account', deviceless.token],
    ["the recipient's own unbound token", bob.token],
  ] as const) {
    const res = await keysOf(api, token, bob.email, '*')
    tt.equal(res.status, 200, name)
    tt.same(
      res.body.devices.map((d: { deviceId: number }) => d.deviceId),
      [1, 2],
      name,
    )
  }
  const anon = await api.get(`/v2/keys/${bob.email}/*/`)
  tt.equal(anon.status, 401)
  tt.equal(anon.body.code, 'not_authenticated')
})

t.test(
  "'*' with a bound token of the account leaves out the caller's own device and claims none of its keys",
  async (tt) => {
    const { app, api } = await build(tt)
    const bob = await bobWithDevices(api, 2)
    const [two] = bob.added
    const before = await oneTimeCounts(app, bob.id)
    const own = await keysOf(api, two.token, bob.email, '*')
    tt.equal(own.status, 200)
    tt.same(
      own.body.devices.map((d: { deviceId: number }) => d.deviceId),
      [1, 3],
      'the other devices, as a sync to them needs',
    )
    const after = await oneTimeCounts(app, bob.id)
    tt.same(after[2], before[2], "device 2's keys are not used up")
    tt.same(after[1], [before[1][0] - 1, 0], "device 1's claimed")

    const explicit = await keysOf(api, two.token, bob.email, 2)
    tt.equal(explicit.status, 200, 'asked for by number, it is answered')
    tt.same(
      explicit.body.devices.map((d: { deviceId: number }) => d.deviceId),
      [2],
    )

    const lonely = await bobWithDevices(api, 0)
    const login = await api.post('/auth/login/', { email: lonely.email, password: PASSWORD, deviceId: 1 })
    const alone = await keysOf(api, login.body.auth_token, lonely.email, '*')
    tt.equal(alone.status, 404, "an account whose only device is the caller's: none to answer")
    tt.equal(alone.body.code, 'no_recipient_device')
  },
)

t.test('404 no_recipient, 404 no_recipient_device; 400 for a malformed email or deviceId', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await bobWithDevices(api, 2)
  const deviceless = await signUp(api)
  tt.equal((await api.delete('/v2/devices/2/', { currentPassword: PASSWORD }, { token: bob.token })).status, 204)
  const before = await oneTimeCounts(app, bob.id)
  const cases: [string, string, string | number, number, string][] = [
    ['an unknown recipient', 'nobody-here@example.com', '*', 404, 'no_recipient'],
    ['an unknown recipient, one device', 'nobody-here@example.com', 1, 404, 'no_recipient'],
    ['an account without devices', deviceless.email, '*', 404, 'no_recipient_device'],
    ['an account without devices, one device', deviceless.email, 1, 404, 'no_recipient_device'],
    ['a number the account never had', bob.email, 4, 404, 'no_recipient_device'],
    ['a removed device', bob.email, 2, 404, 'no_recipient_device'],
    ['a malformed email', 'not-an-email', '*', 400, 'invalid_recipient_email'],
    ['deviceId 0', bob.email, 0, 400, 'invalid_data'],
    ['deviceId not a number', bob.email, 'all', 400, 'invalid_data'],
  ]
  for (const [name, email, which, status, code] of cases) {
    const res = await keysOf(api, alice.token, email, which)
    tt.equal(res.status, status, `${name}: status`)
    tt.equal(res.body.code, code, `${name}: code`)
  }
  tt.same(await oneTimeCounts(app, bob.id), before, 'nothing claimed')
  const rest = await keysOf(api, alice.token, bob.email, '*')
  tt.same(
    rest.body.devices.map((d: { deviceId: number }) => d.deviceId),
    [1, 3],
    'the removed device is not listed',
  )
})

t.test('THROTTLE_PREKEYBUNDLE counts one per request, whatever the number of devices', async (tt) => {
  const { app, api } = await build(tt, { throttlePrekeybundle: '2/day' })
  const alice = await userWithDevice(api)
  const bob = await bobWithDevices(api, 2)
  for (let i = 1; i <= 2; i++) {
    const res = await keysOf(api, alice.token, bob.email, '*')
    tt.equal(res.status, 200, `request ${i} for 3 devices`)
    tt.equal(res.body.devices.length, 3)
  }
  const counts = await oneTimeCounts(app, bob.id)
  const third = await keysOf(api, alice.token, bob.email, '*')
  tt.equal(third.status, 429)
  tt.equal(third.body.code, 'throttled')
  tt.match(String(third.headers['retry-after']), /^\d+$/)
  tt.same(await oneTimeCounts(app, bob.id), counts, 'a throttled request claims nothing')
  const one = await keysOf(api, alice.token, bob.email, 1)
  tt.equal(one.status, 429, 'one device or all: the same limit')

  const carol = await userWithDevice(api)
  tt.equal((await keysOf(api, carol.token, bob.email, '*')).status, 200, 'per caller: another user is not throttled')
})
