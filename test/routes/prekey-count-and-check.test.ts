import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import {
  build,
  deviceBody,
  identityKey,
  kyberPreKey,
  kyberPreKeys,
  preKeys,
  signedPreKey,
  signUp,
  userWithDevice,
  type Api,
} from '../helper.js'

type Key = { keyId: number; publicKey: string }
type Caller = { registrationId: number; token: string }

// The digest exactly as openapi.yaml's checkKeys describes it, written from the spec on purpose
// rather than imported from lib/key-digest.ts, so the server is checked against the spec.
const u64be = (n: number) => Buffer.from([0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
const u64le = (n: number) => Buffer.from(u64be(n)).reverse()
const bytes = (b64: string, length: number, typeByte: number) => {
  const b = Buffer.from(b64, 'base64')
  if (b.length !== length || b[0] !== typeByte)
    throw new Error(`expected ${length} bytes starting 0x${typeByte.toString(16)}`)
  return b
}
function specDigest(identity: string, signed: Key, lastResort?: Key, id = u64be): string {
  const parts = [bytes(identity, 33, 0x05), id(signed.keyId), bytes(signed.publicKey, 33, 0x05)]
  if (lastResort) parts.push(id(lastResort.keyId), bytes(lastResort.publicKey, 1569, 0x08))
  return createHash('sha256').update(Buffer.concat(parts)).digest('base64')
}

function as(api: Api, caller: Caller) {
  return {
    count: () => api.get(`/prekeys/${caller.registrationId}/`, { token: caller.token }),
    check: (digest: unknown, registrationId = caller.registrationId) =>
      api.post(`/keys/check/${registrationId}/`, digest === undefined ? {} : { digest }, { token: caller.token }),
    claim: (email: string) =>
      api.get(`/prekeybundle/${encodeURIComponent(email)}/${caller.registrationId}/`, { token: caller.token }),
  }
}

async function pqUser(api: Api, registrationId: number, preKeyCount: number, pqCount: number, withLastResort: boolean) {
  const user = await signUp(api)
  const body = deviceBody(registrationId, `${user.email}.1`, preKeyCount)
  const pqLastResortPreKey = withLastResort ? kyberPreKey(500, body.identityKey) : undefined
  const device = {
    ...body,
    pqPreKeys: kyberPreKeys(1, pqCount, body.identityKey),
    ...(pqLastResortPreKey && { pqLastResortPreKey }),
  }
  const res = await api.post('/device/', device, { token: user.token })
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${res.text}`)
  return { ...user, registrationId, device, pqLastResortPreKey }
}

t.test('GET /prekeys/ counts exactly through registration, uploads and claims', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await pqUser(api, 6001, 4, 2, true)
  const bobs = as(api, bob)
  tt.same((await bobs.count()).body, { count: 4, pqCount: 2 }, 'after registration; the last-resort key not counted')

  tt.equal((await api.post(`/prekeys/${bob.registrationId}/`, preKeys(10, 3), { token: bob.token })).status, 200)
  tt.same((await bobs.count()).body, { count: 7, pqCount: 2 })
  tt.equal(
    (
      await api.post(
        `/pqprekeys/${bob.registrationId}/`,
        { pqPreKeys: kyberPreKeys(10, 2, bob.device.identityKey) },
        { token: bob.token },
      )
    ).status,
    200,
  )
  tt.same((await bobs.count()).body, { count: 7, pqCount: 4 })
  const withLastResort = { pqPreKeys: [], pqLastResortPreKey: kyberPreKey(501, bob.device.identityKey) }
  tt.equal((await api.post(`/pqprekeys/${bob.registrationId}/`, withLastResort, { token: bob.token })).status, 200)
  tt.same((await bobs.count()).body, { count: 7, pqCount: 4 }, 'replacing the last-resort key counts nothing')

  const expected = [
    [6, 3],
    [5, 2],
    [4, 1],
    [3, 0], // each claim takes one of each
    [2, 0],
    [1, 0],
    [0, 0], // the last-resort key is handed out, never counted
    [0, 0],
    [0, 0],
  ]
  for (const [count, pqCount] of expected) {
    tt.equal((await as(api, alice).claim(bob.email)).status, 200)
    const res = await bobs.count()
    tt.equal(res.status, 200)
    tt.same(res.body, { count, pqCount })
  }
  tt.same((await as(api, alice).count()).body, { count: 10, pqCount: 0 }, "the caller's own keys are untouched")
})

t.test('GET /prekeys/ errors: 403 device_changed, 404 no_device, 401', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  for (const registrationId of [alice.registrationId + 1, bob.registrationId]) {
    const res = await as(api, { registrationId, token: alice.token }).count()
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'device_changed')
  }
  const loner = await signUp(api)
  const none = await as(api, { registrationId: alice.registrationId, token: loner.token }).count()
  tt.equal(none.status, 404)
  tt.equal(none.body.code, 'no_device')
  for (const token of [undefined, 'garbage']) {
    const res = await api.get(`/prekeys/${alice.registrationId}/`, { token })
    tt.equal(res.status, 401)
    tt.equal(res.body.code, 'not_authenticated')
  }
  const bad = await api.get('/prekeys/abc/', { token: alice.token })
  tt.equal(bad.status, 400)
  tt.equal(bad.body.code, 'invalid_data')
})

t.test('POST /keys/check/ matches the spec digest, with the last-resort key only when there is one', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const a = alice.device
  const aliceChecks = as(api, alice)
  const ok = await aliceChecks.check(specDigest(a.identityKey, a.signedPreKey))
  tt.equal(ok.status, 200)
  tt.equal(ok.body.code, 'keys_match')
  const invented = kyberPreKey(1, a.identityKey)
  tt.equal(
    (await aliceChecks.check(specDigest(a.identityKey, a.signedPreKey, invented))).status,
    409,
    'no last-resort key: including one is a mismatch',
  )

  const bob = await pqUser(api, 6002, 1, 2, true)
  const b = bob.device
  const bobChecks = as(api, bob)
  const full = specDigest(b.identityKey, b.signedPreKey, bob.pqLastResortPreKey)
  tt.equal((await bobChecks.check(full)).body.code, 'keys_match')
  const omitted = await bobChecks.check(specDigest(b.identityKey, b.signedPreKey))
  tt.equal(omitted.status, 409, 'omitting the last-resort key is a mismatch')
  tt.equal(omitted.body.code, 'keys_mismatch')

  // Claims, one-time uploads and handing out the last-resort key leave the digest alone.
  for (let i = 0; i < 4; i++) tt.equal((await as(api, alice).claim(bob.email)).status, 200)
  tt.equal(
    (
      await api.post(
        `/pqprekeys/${bob.registrationId}/`,
        { pqPreKeys: kyberPreKeys(20, 2, b.identityKey) },
        { token: bob.token },
      )
    ).status,
    200,
  )
  tt.equal((await api.post(`/prekeys/${bob.registrationId}/`, preKeys(20, 2), { token: bob.token })).status, 200)
  tt.equal((await bobChecks.check(full)).status, 200)
})

t.test('POST /keys/check/ follows replaced keys: the old digest 409, the new one 200', async (tt) => {
  const { api } = await build(tt)
  const bob = await pqUser(api, 6003, 1, 0, true)
  const id = bob.device.identityKey
  const c = as(api, bob)
  const before = specDigest(id, bob.device.signedPreKey, bob.pqLastResortPreKey)
  tt.equal((await c.check(before)).status, 200)

  // Four distinct non-zero bytes, so either byte order or a 32-bit encoding gives another digest.
  const signed = signedPreKey(0x7f010203, id)
  tt.equal((await api.post(`/signedprekey/${bob.registrationId}/`, signed, { token: bob.token })).status, 200)
  tt.equal((await c.check(before)).status, 409, 'old signed prekey: mismatch')
  const afterSigned = specDigest(id, signed, bob.pqLastResortPreKey)
  tt.equal((await c.check(afterSigned)).status, 200)

  const lastResort = kyberPreKey(0x40506070, id)
  tt.equal(
    (
      await api.post(
        `/pqprekeys/${bob.registrationId}/`,
        { pqPreKeys: [], pqLastResortPreKey: lastResort },
        { token: bob.token },
      )
    ).status,
    200,
  )
  const stale = await c.check(afterSigned)
  tt.equal(stale.status, 409, 'old last-resort key: mismatch')
  tt.equal(stale.body.code, 'keys_mismatch')
  const current = specDigest(id, signed, lastResort)
  tt.equal((await c.check(current)).body.code, 'keys_match')

  const wrong: [string, string][] = [
    ['keyIds little-endian', specDigest(id, signed, lastResort, u64le)],
    ['keyIds as 32-bit integers', specDigest(id, signed, lastResort, (n) => u64be(n).subarray(4))],
    ['another identity key', specDigest(identityKey(), signed, lastResort)],
    ['the last-resort part omitted', specDigest(id, signed)],
    [
      'the signed prekey and the last-resort key swapped',
      createHash('sha256')
        .update(
          Buffer.concat([
            Buffer.from(id, 'base64'),
            u64be(lastResort.keyId),
            Buffer.from(lastResort.publicKey, 'base64'),
            u64be(signed.keyId),
            Buffer.from(signed.publicKey, 'base64'),
          ]),
        )
        .digest('base64'),
    ],
    [
      'a hash over the base64 text instead of the bytes',
      createHash('sha256')
        .update(id + signed.keyId + signed.publicKey + lastResort.keyId + lastResort.publicKey)
        .digest('base64'),
    ],
    ['32 random bytes', randomBytes(32).toString('base64')],
  ]
  for (const [name, digest] of wrong) {
    const res = await c.check(digest)
    tt.equal(res.status, 409, `${name}: status`)
    tt.equal(res.body.code, 'keys_mismatch', `${name}: code`)
  }
})

t.test('POST /keys/check/ errors: malformed digests 400, 403 device_changed, 404 no_device, 401', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const good = specDigest(alice.device.identityKey, alice.device.signedPreKey)
  const c = as(api, alice)
  const malformed: [string, unknown, string][] = [
    ['not base64', '!'.repeat(43) + '=', 'body.digest'],
    ['31 bytes', randomBytes(31).toString('base64'), 'body.digest'],
    ['33 bytes', randomBytes(33).toString('base64'), 'body.digest'],
    ['32 bytes in hex', randomBytes(32).toString('hex'), 'body.digest'],
    ['unpadded base64', good.replace(/=$/, ''), 'body.digest'],
    ['an empty string', '', 'body.digest'],
    ['a number', 12345, 'body.digest'],
    ['missing', undefined, 'body.digest'],
  ]
  for (const [name, digest, field] of malformed) {
    const res = await c.check(digest)
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_data', `${name}: code`)
    tt.same([...new Set(res.body.errors.map((e: { field: string }) => e.field))], [field], `${name}: names ${field}`)
  }
  const extra = await api.post(
    `/keys/check/${alice.registrationId}/`,
    { digest: good, extra: 1 },
    { token: alice.token },
  )
  tt.equal(extra.status, 400)
  tt.equal(extra.body.code, 'invalid_data')

  for (const registrationId of [alice.registrationId + 1, bob.registrationId]) {
    const res = await c.check(good, registrationId)
    tt.equal(res.status, 403)
    tt.equal(res.body.code, 'device_changed')
  }
  const bobsDigest = await c.check(specDigest(bob.device.identityKey, bob.device.signedPreKey), bob.registrationId)
  tt.equal(bobsDigest.status, 403, "checking another device's keys is device_changed, not a match")

  const loner = await signUp(api)
  const none = await as(api, { registrationId: alice.registrationId, token: loner.token }).check(good)
  tt.equal(none.status, 404)
  tt.equal(none.body.code, 'no_device')
  for (const token of [undefined, 'garbage']) {
    const res = await api.post(`/keys/check/${alice.registrationId}/`, { digest: good }, { token })
    tt.equal(res.status, 401)
    tt.equal(res.body.code, 'not_authenticated')
  }
  tt.equal((await c.check(good)).status, 200, 'and the right digest still matches')
})
