import t from 'tap'
import type { FastifyInstance } from 'fastify'
import {
  build,
  deviceBody,
  identityKey,
  kyberPreKey,
  kyberPreKeys,
  publicKey,
  sign,
  signature,
  signedPreKey,
  signUp,
  userWithDevice,
} from '../helper.js'

const TABLES = ['devices', 'prekeys', 'signed_prekeys', 'pq_prekeys', 'pq_last_resort_prekeys'] as const

/** Row counts of every key table, to prove a refused request stored nothing anywhere. */
async function rowCounts(app: FastifyInstance) {
  const out: Record<string, number> = {}
  for (const table of TABLES) out[table] = Number((await app.db.knex(table).count({ n: '*' }))[0].n)
  return out
}

/** Everything stored for one user's device, key by key. */
async function deviceKeys(app: FastifyInstance, userId: number) {
  const knex = app.db.knex
  const device = await knex('devices').where({ user_id: userId }).first()
  if (!device) return undefined
  const of = (table: string, cols: string[]) =>
    knex(table).where({ device_id: device.id }).orderBy('key_id').select(cols)
  return {
    signed: await of('signed_prekeys', ['key_id', 'public_key', 'signature']),
    pq: await of('pq_prekeys', ['key_id', 'public_key', 'signature']),
    lastResort: await of('pq_last_resort_prekeys', ['key_id', 'public_key', 'signature']),
  }
}

const fields = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((e) => e.field).sort()

/** The signature with one bit flipped. */
function flipBit(sig: string, byte: number, bit: number): string {
  const bytes = Buffer.from(sig, 'base64')
  bytes[byte] ^= 1 << bit
  return bytes.toString('base64')
}

/** Ways a signed prekey can carry a signature that is well-formed but not the identity's over this key. */
function badSignedPreKeys(identity: string) {
  const good = signedPreKey(1, identity)
  const pubBytes = Buffer.from(good.publicKey, 'base64')
  return [
    ['signed by another identity', signedPreKey(1, identityKey())],
    ['one bit flipped in the first byte', { ...good, signature: flipBit(good.signature, 0, 0) }],
    ['one bit flipped in the middle', { ...good, signature: flipBit(good.signature, 40, 5) }],
    // XEdDSA carries the sign of the Edwards key in this bit: flipping it must not verify either.
    ['the sign bit of the last byte flipped', { ...good, signature: flipBit(good.signature, 63, 7) }],
    ['a signature over a different prekey', { ...good, signature: signedPreKey(1, identity).signature }],
    [
      'a signature over the key without its type byte',
      { ...good, signature: sign(identity, pubBytes.subarray(1).toString('base64')) },
    ],
    ['64 random bytes', { ...good, signature: signature() }],
    ['64 zero bytes', { ...good, signature: Buffer.alloc(64).toString('base64') }],
  ] as const
}

t.test('POST /device/ with a bad signed prekey signature is 400 invalid_signature and stores nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await signUp(api)
  const body = deviceBody(4001, 'alice.1', 5)
  const empty = await rowCounts(app)
  for (const [name, bad] of badSignedPreKeys(body.identityKey)) {
    const res = await api.post('/device/', { ...body, signedPreKey: bad }, { token: alice.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_signature', `${name}: code`)
    tt.same(fields(res), ['body.signedPreKey.signature'], `${name}: names the signed prekey's signature only`)
    tt.same(await rowCounts(app), empty, `${name}: no device row, no keys`)
  }
  const ok = await api.post('/device/', body, { token: alice.token })
  tt.equal(ok.status, 201, 'the same user can then register with a valid signature')
  tt.equal((await rowCounts(app)).prekeys, 5)
})

t.test('POST /device/ with bad Kyber signatures names each one and stores nothing', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await signUp(api)
  const body = deviceBody(4002, 'alice.1', 5)
  const pq = kyberPreKeys(1, 6, body.identityKey)
  const lastResort = kyberPreKey(100, body.identityKey)
  const empty = await rowCounts(app)

  const one = pq.map((k, i) => (i === 3 ? { ...k, signature: flipBit(k.signature, 7, 2) } : k))
  const res1 = await api.post(
    '/device/',
    { ...body, pqPreKeys: one, pqLastResortPreKey: lastResort },
    { token: alice.token },
  )
  tt.equal(res1.status, 400)
  tt.equal(res1.body.code, 'invalid_signature')
  tt.same(fields(res1), ['body.pqPreKeys[3].signature'])

  // Signatures of a one-time key swapped in from its neighbour: each is valid, just not for this key.
  const swapped = pq.map((k, i) =>
    i === 1 ? { ...k, signature: pq[2].signature } : i === 4 ? { ...k, signature: signature() } : k,
  )
  const res2 = await api.post(
    '/device/',
    {
      ...body,
      signedPreKey: signedPreKey(1, identityKey()),
      pqPreKeys: swapped,
      pqLastResortPreKey: kyberPreKey(100, identityKey()),
    },
    { token: alice.token },
  )
  tt.equal(res2.status, 400)
  tt.equal(res2.body.code, 'invalid_signature')
  tt.same(
    fields(res2),
    [
      'body.pqLastResortPreKey.signature',
      'body.pqPreKeys[1].signature',
      'body.pqPreKeys[4].signature',
      'body.signedPreKey.signature',
    ].sort(),
    'every bad signature is named',
  )

  const res3 = await api.post(
    '/device/',
    { ...body, pqPreKeys: pq, pqLastResortPreKey: { ...lastResort, signature: pq[0].signature } },
    { token: alice.token },
  )
  tt.equal(res3.status, 400)
  tt.equal(res3.body.code, 'invalid_signature')
  tt.same(fields(res3), ['body.pqLastResortPreKey.signature'])

  tt.same(await rowCounts(app), empty, 'nothing stored by any of them')

  const ok = await api.post(
    '/device/',
    { ...body, pqPreKeys: pq, pqLastResortPreKey: lastResort },
    { token: alice.token },
  )
  tt.equal(ok.status, 201)
  const stored = await deviceKeys(app, alice.id)
  tt.same(
    stored!.pq,
    pq.map((k) => ({ key_id: k.keyId, public_key: k.publicKey, signature: k.signature })),
  )
  tt.same(stored!.lastResort, [{ key_id: 100, public_key: lastResort.publicKey, signature: lastResort.signature }])
})

t.test('POST /signedprekey/ with a bad signature is 400 invalid_signature; bundles keep the old one', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api, { preKeyCount: 0 })
  const before = await deviceKeys(app, bob.id)
  for (const [name, bad] of badSignedPreKeys(bob.device.identityKey)) {
    const res = await api.post(`/signedprekey/${bob.registrationId}/`, { ...bad, keyId: 2 }, { token: bob.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_signature', `${name}: code`)
    tt.same(fields(res), ['body.signature'], `${name}: names body.signature`)
  }
  tt.same(await deviceKeys(app, bob.id), before)
  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(bundle.status, 200)
  tt.same(bundle.body.signedPreKey, bob.device.signedPreKey, 'the old signed prekey is still handed out')
})

t.test('POST /pqprekeys/ with a bad signature stores nothing of the batch', async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const id = alice.device.identityKey
  const first = await api.post(
    `/pqprekeys/${alice.registrationId}/`,
    { pqPreKeys: kyberPreKeys(1, 3, id), pqLastResortPreKey: kyberPreKey(50, id) },
    { token: alice.token },
  )
  tt.equal(first.status, 200)
  const before = await deviceKeys(app, alice.id)

  const batch = kyberPreKeys(10, 4, id)
  const cases: [string, unknown, string[]][] = [
    [
      'one one-time key signed by another identity',
      { pqPreKeys: [...batch.slice(0, 3), kyberPreKey(13, identityKey())] },
      ['body.pqPreKeys[3].signature'],
    ],
    [
      'one bit flipped',
      { pqPreKeys: batch.map((k, i) => (i === 0 ? { ...k, signature: flipBit(k.signature, 20, 1) } : k)) },
      ['body.pqPreKeys[0].signature'],
    ],
    [
      'a bad last-resort key with good one-time keys',
      { pqPreKeys: batch, pqLastResortPreKey: { ...kyberPreKey(51, id), signature: signature() } },
      ['body.pqLastResortPreKey.signature'],
    ],
    [
      'a bad last-resort key alone',
      { pqPreKeys: [], pqLastResortPreKey: kyberPreKey(51, identityKey()) },
      ['body.pqLastResortPreKey.signature'],
    ],
  ]
  for (const [name, body, named] of cases) {
    const res = await api.post(`/pqprekeys/${alice.registrationId}/`, body, { token: alice.token })
    tt.equal(res.status, 400, `${name}: status`)
    tt.equal(res.body.code, 'invalid_signature', `${name}: code`)
    tt.same(fields(res), named, `${name}: names ${named}`)
    tt.same(await deviceKeys(app, alice.id), before, `${name}: nothing stored or replaced`)
  }
  const count = await api.get(`/prekeys/${alice.registrationId}/`, { token: alice.token })
  tt.same(count.body, { count: 10, pqCount: 3 }, 'the count is unchanged')
})

t.test("a signature by another user's identity key is refused: the caller's own stored identity counts", async (tt) => {
  const { app, api } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const before = await deviceKeys(app, alice.id)
  const bobs = bob.device.identityKey

  const signed = await api.post(`/signedprekey/${alice.registrationId}/`, signedPreKey(2, bobs), { token: alice.token })
  tt.equal(signed.status, 400)
  tt.equal(signed.body.code, 'invalid_signature')
  tt.same(fields(signed), ['body.signature'])

  const pq = await api.post(
    `/pqprekeys/${alice.registrationId}/`,
    { pqPreKeys: kyberPreKeys(1, 2, bobs), pqLastResortPreKey: kyberPreKey(9, bobs) },
    { token: alice.token },
  )
  tt.equal(pq.status, 400)
  tt.equal(pq.body.code, 'invalid_signature')
  tt.same(fields(pq), [
    'body.pqLastResortPreKey.signature',
    'body.pqPreKeys[0].signature',
    'body.pqPreKeys[1].signature',
  ])

  tt.same(await deviceKeys(app, alice.id), before, "nothing of alice's changed")
  // And the keys bob signed are good for bob, so only the identity made the difference.
  tt.equal(
    (await api.post(`/signedprekey/${bob.registrationId}/`, signedPreKey(2, bobs), { token: bob.token })).status,
    200,
  )
  tt.equal(
    (await api.post(`/pqprekeys/${bob.registrationId}/`, { pqPreKeys: kyberPreKeys(1, 2, bobs) }, { token: bob.token }))
      .status,
    200,
  )

  // A device registered with bob's identity key as its own may sign with it; one claiming a fresh
  // identity may not use bob's signature.
  const carol = await signUp(api)
  const carolBody = { ...deviceBody(4003, 'carol.1', 1), signedPreKey: signedPreKey(1, bobs) }
  const res = await api.post('/device/', carolBody, { token: carol.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_signature')
  tt.same(fields(res), ['body.signedPreKey.signature'])
  tt.equal(await deviceKeys(app, carol.id), undefined)
})

t.test('valid signatures over unusual but well-formed keys are accepted', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(api)
  const id = alice.device.identityKey
  // The same public key signed twice gives two different valid signatures (XEdDSA is randomised).
  const pub = publicKey()
  const a = { keyId: 2, publicKey: pub, signature: sign(id, pub) }
  const b = { keyId: 3, publicKey: pub, signature: sign(id, pub) }
  tt.not(a.signature, b.signature)
  tt.equal((await api.post(`/signedprekey/${alice.registrationId}/`, a, { token: alice.token })).status, 200)
  tt.equal((await api.post(`/signedprekey/${alice.registrationId}/`, b, { token: alice.token })).status, 200)
})
