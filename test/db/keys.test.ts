import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { isUniqueViolation } from '../../db/dialect.js'
import {
  build,
  database,
  deviceBody,
  kyberPreKey,
  kyberPreKeys,
  preKeys,
  signedPreKey,
  uniqueEmail,
} from '../helper.js'

// The keys repository on its own, against the same fresh databases the route tests use.

async function newDevice(app: FastifyInstance, preKeyCount = 0, registrationId = 1234, pqCount = 0) {
  const user = await app.db.users.create(uniqueEmail(), 'not-a-real-hash')
  const plain = deviceBody(registrationId, `${user.email}.1`, preKeyCount)
  const pq = pqCount
    ? {
        pqPreKeys: kyberPreKeys(1, pqCount, plain.identityKey),
        pqLastResortPreKey: kyberPreKey(500, plain.identityKey),
      }
    : {}
  const body = { ...plain, ...pq }
  const id = await app.db.transaction(async (tx) => {
    const deviceId = await tx.devices.insert(user.id, body)
    await tx.keys.replaceSignedPreKey(deviceId, body.signedPreKey)
    if (body.preKeys.length) await tx.keys.insertOneTime('ec', deviceId, body.preKeys)
    if (body.pqPreKeys?.length) await tx.keys.insertOneTime('pq', deviceId, body.pqPreKeys)
    if (body.pqLastResortPreKey) await tx.keys.replaceLastResort(deviceId, body.pqLastResortPreKey)
    return deviceId
  })
  return { id, userId: user.id, body }
}

t.test('countOneTime counts per device; an unknown device has none', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 3)
  const b = await newDevice(app, 5)
  tt.equal(await app.db.keys.countOneTime('ec', a.id), 3)
  tt.equal(await app.db.keys.countOneTime('ec', b.id), 5)
  tt.equal(await app.db.keys.countOneTime('ec', 999999), 0)
  await app.db.keys.insertOneTime('ec', a.id, preKeys(100, 250)) // more than one insert batch
  tt.equal(await app.db.keys.countOneTime('ec', a.id), 253)
  tt.equal(await app.db.keys.countOneTime('ec', b.id), 5)
})

t.test('existingKeyIds reports only the given ids stored for that device', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 5) // keyIds 1..5
  const b = await newDevice(app, 0)
  await app.db.keys.insertOneTime('ec', b.id, preKeys(40, 2))
  tt.same(
    (await app.db.keys.existingKeyIds('ec', a.id, [2, 4, 40, 41, 99])).sort((x, y) => x - y),
    [2, 4],
  )
  tt.same(await app.db.keys.existingKeyIds('ec', b.id, [2, 4]), [])
  tt.same(await app.db.keys.existingKeyIds('ec', a.id, []), [])
})

t.test('insertOneTime refuses a keyId the device already has with a unique violation', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 3)
  const err = await app.db.keys.insertOneTime('ec', a.id, [{ keyId: 2, publicKey: preKeys(0, 1)[0].publicKey }]).then(
    () => undefined,
    (e: unknown) => e,
  )
  tt.ok(err, 'the insert fails')
  tt.ok(isUniqueViolation(err), 'as a unique violation, which the route maps to prekey_id_exists')
  tt.equal(await app.db.keys.countOneTime('ec', a.id), 3)
})

t.test('claimOneTime returns and deletes one prekey at a time, then undefined', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 3)
  const other = await newDevice(app, 2)
  const claimed = []
  for (let i = 0; i < 3; i++) {
    const k = await app.db.keys.claimOneTime('ec', a.id)
    tt.ok(k, `claim ${i + 1} returns a prekey`)
    tt.same(
      k,
      a.body.preKeys.find((p) => p.keyId === k!.keyId),
      'with the stored public key',
    )
    claimed.push(k!.keyId)
    tt.equal(await app.db.keys.countOneTime('ec', a.id), 2 - i)
  }
  tt.same(claimed.sort(), [1, 2, 3])
  tt.equal(await app.db.keys.claimOneTime('ec', a.id), undefined, 'empty: undefined')
  tt.equal(await app.db.keys.claimOneTime('ec', a.id), undefined, 'and again')
  tt.equal(await app.db.keys.claimOneTime('ec', 424242), undefined, 'unknown device: undefined')
  tt.equal(await app.db.keys.countOneTime('ec', other.id), 2, "another device's prekeys are untouched")
})

t.test('a claim inside a rolled-back transaction keeps the prekey', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 1)
  // Only the error thrown to roll back may come out: a claim that failed would fail the test.
  await tt.rejects(
    app.db.transaction(async (tx) => {
      tt.ok(await tx.keys.claimOneTime('ec', a.id))
      throw new Error('roll back')
    }),
    { message: 'roll back' },
  )
  tt.equal(await app.db.keys.countOneTime('ec', a.id), 1)
})

// PostgreSQL: 16 transactions, each on its own connection, claim and then wait until all 16 have
// claimed, so that all of them are open at once when they commit. SQLite has one connection: its
// transactions queue and run one at a time, by design, so there they cannot be held open together.
const concurrent =
  database === 'postgres'
    ? '16 claims in transactions all open at once (each waits until every one has claimed)'
    : '16 claims in separate transactions (SQLite: one connection, so they run one at a time, by design)'
t.test(`${concurrent} never return the same prekey`, async (tt) => {
  const { app } = await build(tt, { databasePoolMax: 17 })
  const a = await newDevice(app, 10)
  let claimed = 0
  let allClaimed!: () => void
  const barrier = new Promise<void>((resolve) => (allClaimed = resolve))
  const results = await Promise.all(
    Array.from({ length: 16 }, () =>
      app.db.transaction(async (tx) => {
        // A claim that fails releases the others, so that the test fails at once instead of hanging.
        const key = await tx.keys.claimOneTime('ec', a.id).finally(() => ++claimed === 16 && allClaimed())
        if (database === 'postgres') await barrier
        return key
      }),
    ),
  )
  const ids = results.filter((k) => k !== undefined).map((k) => k!.keyId)
  tt.equal(ids.length, 10)
  tt.equal(new Set(ids).size, 10)
  tt.equal(results.filter((k) => k === undefined).length, 6)
  tt.equal(await app.db.keys.countOneTime('ec', a.id), 0)
})

t.test('getSignedPreKey and replaceSignedPreKey keep exactly one per device', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app)
  const b = await newDevice(app)
  tt.same(await app.db.keys.getSignedPreKey(a.id), a.body.signedPreKey)
  tt.equal(await app.db.keys.getSignedPreKey(999999), undefined)
  const next = signedPreKey(9)
  await app.db.keys.replaceSignedPreKey(a.id, next)
  tt.same(await app.db.keys.getSignedPreKey(a.id), next)
  tt.equal((await app.db.knex('signed_prekeys').where({ device_id: a.id })).length, 1)
  tt.same(await app.db.keys.getSignedPreKey(b.id), b.body.signedPreKey, "another device's is untouched")

  // A device without one (e.g. a row written by hand) gets one inserted.
  await app.db.knex('signed_prekeys').where({ device_id: b.id }).delete()
  tt.equal(await app.db.keys.getSignedPreKey(b.id), undefined)
  await app.db.keys.replaceSignedPreKey(b.id, next)
  tt.same(await app.db.keys.getSignedPreKey(b.id), next)
})

t.test('deleting a device cascades to all its keys', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 4, 1234, 3)
  const b = await newDevice(app, 4, 1234, 3)
  await app.db.devices.delete(a.id)
  tt.equal(await app.db.keys.countOneTime('ec', a.id), 0)
  tt.equal(await app.db.keys.countOneTime('pq', a.id), 0)
  tt.equal(await app.db.keys.getSignedPreKey(a.id), undefined)
  tt.equal(await app.db.keys.getLastResort(a.id), undefined)
  tt.equal(await app.db.keys.countOneTime('ec', b.id), 4)
  tt.equal(await app.db.keys.countOneTime('pq', b.id), 3)
  tt.same(await app.db.keys.getLastResort(b.id), b.body.pqLastResortPreKey)
})

t.test(
  'Kyber one-time prekeys: stored with their signatures, claimed once each, counted apart from EC ones',
  async (tt) => {
    const { app } = await build(tt)
    const a = await newDevice(app, 2, 1234, 3)
    tt.equal(await app.db.keys.countOneTime('pq', a.id), 3)
    tt.equal(await app.db.keys.countOneTime('ec', a.id), 2)
    const claimed = []
    for (let i = 0; i < 3; i++) claimed.push(await app.db.keys.claimOneTime('pq', a.id))
    tt.same(
      claimed.sort((x, y) => x!.keyId - y!.keyId),
      a.body.pqPreKeys,
      'each comes back whole (keyId, publicKey, signature), once',
    )
    tt.equal(await app.db.keys.claimOneTime('pq', a.id), undefined)
    tt.equal(await app.db.keys.countOneTime('ec', a.id), 2, 'EC prekeys untouched')
    tt.same(
      await app.db.keys.getLastResort(a.id),
      a.body.pqLastResortPreKey,
      'the last-resort key is not a one-time key',
    )
  },
)

t.test('replaceLastResort keeps exactly one per device', async (tt) => {
  const { app } = await build(tt)
  const a = await newDevice(app, 0, 1234, 1)
  const b = await newDevice(app, 0, 1234, 1)
  const next = kyberPreKey(501, a.body.identityKey)
  await app.db.keys.replaceLastResort(a.id, next)
  tt.same(await app.db.keys.getLastResort(a.id), next)
  tt.equal((await app.db.knex('pq_last_resort_prekeys').where({ device_id: a.id })).length, 1)
  tt.same(await app.db.keys.getLastResort(b.id), b.body.pqLastResortPreKey, "another device's is untouched")
  tt.equal(await app.db.keys.getLastResort(999999), undefined)
})
