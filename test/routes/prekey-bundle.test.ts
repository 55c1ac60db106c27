import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, signUp, userWithDevice } from '../helper.js'

async function storedKeyIds(app: FastifyInstance, userId: number): Promise<number[]> {
  const rows = await app.db
    .knex('prekeys')
    .join('devices', 'devices.id', 'prekeys.device_id')
    .where('devices.user_id', userId)
    .orderBy('prekeys.key_id')
    .select('prekeys.key_id')
  return rows.map((r: { key_id: number }) => r.key_id)
}

const bundleUrl = (email: string, registrationId: number) =>
  `/prekeybundle/${encodeURIComponent(email)}/${registrationId}/`

t.test('GET /prekeybundle/ answers the recipient keys and deletes the prekey it hands out', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const res = await api.get(bundleUrl(bob.email, alice.registrationId), { token: alice.token })
  tt.equal(res.status, 200)
  const { preKey, ...rest } = res.body
  tt.same(rest, {
    address: bob.device.address,
    identityKey: bob.device.identityKey,
    registrationId: bob.registrationId,
    signedPreKey: bob.device.signedPreKey,
  })
  tt.ok(preKey, 'a one-time prekey is included')
  tt.same(
    preKey,
    bob.device.preKeys.find((k) => k.keyId === preKey.keyId),
    "it is one of bob's uploaded prekeys, with its key",
  )

  const left = await storedKeyIds(app, bob.id)
  tt.equal(left.length, 9, 'the count drops by one')
  tt.notOk(left.includes(preKey.keyId), 'the claimed prekey is deleted')
  tt.equal((await storedKeyIds(app, alice.id)).length, 10, "the caller's own prekeys are untouched")
})

t.test('successive claims never repeat a keyId; with none left the bundle has no preKey key', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api, { preKeyCount: 4 })
  const seen: number[] = []
  for (let i = 0; i < 4; i++) {
    const res = await api.get(bundleUrl(bob.email, alice.registrationId), { token: alice.token })
    tt.equal(res.status, 200)
    seen.push(res.body.preKey.keyId)
    tt.equal((await storedKeyIds(app, bob.id)).length, 3 - i)
  }
  tt.same(
    [...seen].sort((a, b) => a - b),
    [1, 2, 3, 4],
    'each prekey exactly once',
  )

  for (let i = 0; i < 2; i++) {
    const empty = await api.get(bundleUrl(bob.email, alice.registrationId), { token: alice.token })
    tt.equal(empty.status, 200)
    tt.notOk('preKey' in empty.body, 'no preKey key at all, not null')
    tt.same(empty.body.signedPreKey, bob.device.signedPreKey, 'the signed prekey is still handed out')
    tt.equal(empty.body.identityKey, bob.device.identityKey)
  }
})

t.test('a device registered without prekeys gives bundles without preKey', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api, { preKeyCount: 0 })
  const res = await api.get(bundleUrl(bob.email, alice.registrationId), { token: alice.token })
  tt.equal(res.status, 200)
  tt.notOk('preKey' in res.body)
})

t.test('the recipient email is case-insensitive', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const res = await api.get(bundleUrl(bob.email.toUpperCase(), alice.registrationId), { token: alice.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.registrationId, bob.registrationId)
  tt.equal(res.body.identityKey, bob.device.identityKey)
  tt.equal((await storedKeyIds(app, bob.id)).length, 9)

  const tagged = await userWithDevice(api, { email: `Carol+Tag.${Date.now()}@Example.com` })
  const plus = await api.get(`/prekeybundle/${tagged.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(plus.status, 200, 'a literal + in the path is part of the email')
  tt.equal(plus.body.registrationId, tagged.registrationId)
  const encoded = await api.get(bundleUrl(tagged.email.toLowerCase(), alice.registrationId), { token: alice.token })
  tt.equal(encoded.status, 200, 'and so is an encoded one')
  tt.equal(encoded.body.registrationId, tagged.registrationId)

  const slashed = await userWithDevice(api, { email: `dave/ops.${Date.now()}@example.com` })
  const slash = await api.get(bundleUrl(slashed.email, alice.registrationId), { token: alice.token })
  tt.equal(slash.status, 200, 'an encoded / in the email does not split the path')
  tt.equal(slash.body.registrationId, slashed.registrationId)
})

t.test('bundle errors claim nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const deviceless = await signUp(api)

  const cases: [string, string, string | undefined, number, string][] = [
    ['a malformed email', bundleUrl('not-an-email', alice.registrationId), alice.token, 400, 'invalid_recipient_email'],
    [
      'an email with two @',
      bundleUrl(`x@${bob.email}`, alice.registrationId),
      alice.token,
      400,
      'invalid_recipient_email',
    ],
    ['an unknown email', bundleUrl('nobody-here@example.com', alice.registrationId), alice.token, 404, 'no_recipient'],
    [
      'a recipient without a device',
      bundleUrl(deviceless.email, alice.registrationId),
      alice.token,
      404,
      'no_recipient_device',
    ],
    ['a caller without a device', bundleUrl(bob.email, alice.registrationId), deviceless.token, 404, 'no_device'],
    [
      'a registrationId that is not the caller device',
      bundleUrl(bob.email, alice.registrationId + 1),
      alice.token,
      403,
      'device_changed',
    ],
    [
      "the recipient's registrationId in the path",
      bundleUrl(bob.email, bob.registrationId),
      alice.token,
      403,
      'device_changed',
    ],
    ['no token', bundleUrl(bob.email, alice.registrationId), undefined, 401, 'not_authenticated'],
    ['a bad token', bundleUrl(bob.email, alice.registrationId), 'nope', 401, 'not_authenticated'],
  ]
  for (const [name, url, token, status, code] of cases) {
    const res = await api.get(url, { token })
    tt.equal(res.status, status, `${name}: status`)
    tt.equal(res.body.code, code, `${name}: code`)
  }
  tt.equal((await storedKeyIds(app, bob.id)).length, 10, "none of bob's prekeys was claimed")
})

t.test('a non-integer registrationId in the path is 400 invalid_data', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const res = await api.get(`/prekeybundle/${bob.email}/abc/`, { token: alice.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  tt.same(
    res.body.errors.map((e: { field: string }) => e.field),
    ['params.registrationId'],
  )
})

t.test('30 concurrent claims on 20 prekeys: 20 distinct keyIds, 10 bundles without preKey', async (tt) => {
  const { app, api } = await build(tt)
  const bob = await userWithDevice(api, { preKeyCount: 20 })
  const callers = [await userWithDevice(api), await userWithDevice(api), await userWithDevice(api)]
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => {
      const caller = callers[i % callers.length]
      return api.get(bundleUrl(bob.email, caller.registrationId), { token: caller.token })
    }),
  )
  tt.same(
    results.map((r) => r.status),
    Array(30).fill(200),
  )
  const claimed = results.filter((r) => 'preKey' in r.body).map((r) => r.body.preKey.keyId as number)
  tt.equal(claimed.length, 20, 'exactly 20 bundles carry a preKey')
  tt.equal(new Set(claimed).size, 20, 'no keyId was handed out twice')
  tt.same(
    [...claimed].sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i + 1),
  )
  tt.equal(results.filter((r) => !('preKey' in r.body)).length, 10)
  tt.same(await storedKeyIds(app, bob.id), [], 'all prekeys are gone')
})
