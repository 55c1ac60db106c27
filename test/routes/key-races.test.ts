import t from 'tap'
import type { FastifyInstance } from 'fastify'
import {
  database,
  deviceBody,
  kyberPreKey,
  kyberPreKeys,
  preKeys,
  signUp,
  userWithDevice,
  type Api,
  type ApiResponse,
} from '../helper.js'
import { apps, assertOverlap, race, watchPools } from '../races.js'

// On PostgreSQL every race runs over two app instances on one database, so that two connection
// pools compete, not just requests queueing in one pool, and each race asserts that its database
// work overlapped: both pools had connections out, more than one at once. SQLite is a
// single-instance set-up (one process, one connection that serialises writers; see the README):
// there the same requests are in flight together over one instance, but their transactions run one
// at a time, by design. On SQLite these tests check the interleaving of whole transactions, say so
// in their names, and assert that the connection was never shared.

type Key = { keyId: number; publicKey: string; signature?: string }
type User = Awaited<ReturnType<typeof signUp>>
type Requester = Awaited<ReturnType<typeof userWithDevice>>
type Kind = 'ec' | 'pq'

let nextRegistrationId = 500000
/** Signs up a user and registers a device holding `ec` prekeys, `pq` Kyber prekeys and a last-resort one. */
async function recipient(api: Api, ec: number, pq: number, user?: User) {
  user ??= await signUp(api)
  const base = deviceBody(++nextRegistrationId, `${user.email}.1`, ec)
  const device = {
    ...base,
    pqPreKeys: kyberPreKeys(1, pq, base.identityKey),
    pqLastResortPreKey: kyberPreKey(777, base.identityKey),
  }
  const res = await api.post('/device/', device, { token: user.token })
  if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${res.text}`)
  return { ...user, registrationId: base.registrationId, device }
}
type Recipient = Awaited<ReturnType<typeof recipient>>

const requesters = (api: Api, n: number) =>
  Promise.all(Array.from({ length: n }, () => userWithDevice(api, { preKeyCount: 0 })))

/** Claim number `i`, spread over both apps and over the requesters. */
function claim(apis: readonly Api[], who: Requester[], to: { email: string }, i: number) {
  const r = who[i % who.length]
  return apis[i % apis.length].get(`/prekeybundle/${encodeURIComponent(to.email)}/${r.registrationId}/`, {
    token: r.token,
  })
}

function upload(api: Api, owner: { token: string; registrationId: number }, kind: Kind, keys: Key[]) {
  return kind === 'ec'
    ? api.post(`/prekeys/${owner.registrationId}/`, keys, { token: owner.token })
    : api.post(`/pqprekeys/${owner.registrationId}/`, { pqPreKeys: keys }, { token: owner.token })
}

const byKeyId = (keys: Key[]) => [...keys].sort((a, b) => a.keyId - b.keyId)
const ids = (keys: Key[]) => keys.map((k) => k.keyId)
const dupes = (xs: number[]) => xs.filter((x, i) => xs.indexOf(x) !== i)
const statusCodes = (rs: ApiResponse[]) => rs.map((r) => (r.status === 200 ? 200 : `${r.status} ${r.body?.code}`))

/** One-time keys stored for a device, straight from the table, as the API shows them. */
async function stored(app: FastifyInstance, kind: Kind, device: number): Promise<Key[]> {
  const rows = await app.db
    .knex(kind === 'ec' ? 'prekeys' : 'pq_prekeys')
    .where({ device_id: device })
    .orderBy('key_id')
  return rows.map((r) => ({
    keyId: r.key_id,
    publicKey: r.public_key,
    ...(kind === 'pq' && { signature: r.signature }),
  }))
}
const deviceId = async (app: FastifyInstance, userId: number) =>
  (await app.db.knex('devices').where({ user_id: userId }).first()).id as number

/** The one-time keys the bundles handed out, and the bundles that fell back to the last-resort Kyber prekey. */
function handedOut(bundles: ApiResponse[]) {
  const ok = bundles.filter((r) => r.status === 200).map((r) => r.body)
  const ec: Key[] = ok.filter((b) => b.preKey).map((b) => b.preKey)
  const pq: Key[] = ok
    .filter((b) => b.pqPreKey?.lastResort === false)
    .map(({ pqPreKey: { lastResort: _flag, ...k } }) => k)
  const lastResort: Key[] = ok
    .filter((b) => b.pqPreKey?.lastResort === true)
    .map(({ pqPreKey: { lastResort: _flag, ...k } }) => k)
  return { ok, ec, pq, lastResort }
}

t.test(
  race('200 parallel claims on 100 prekeys and 100 Kyber prekeys: each key exactly once, then the last resort'),
  async (tt) => {
    const { app, apis, all } = await apps(tt)
    const bob = await recipient(apis[0], 100, 100)
    const callers = await requesters(apis[0], 8)
    const pools = watchPools(all)
    const bundles = await Promise.all(Array.from({ length: 200 }, (_, i) => claim(apis, callers, bob, i)))
    assertOverlap(tt, pools.stop(), all.length)

    tt.same(statusCodes(bundles), Array(200).fill(200), 'every claim answers 200')
    const { ok, ec, pq, lastResort } = handedOut(bundles)
    tt.equal(ec.length, 100, 'exactly 100 bundles carry a preKey')
    tt.same(dupes(ids(ec)), [], 'no prekey handed out twice')
    tt.same(byKeyId(ec), bob.device.preKeys, 'the handed-out prekeys are exactly the uploaded ones')
    tt.equal(pq.length, 100, 'exactly 100 bundles carry a one-time Kyber prekey')
    tt.same(dupes(ids(pq)), [], 'no Kyber prekey handed out twice')
    tt.same(byKeyId(pq), bob.device.pqPreKeys, 'the handed-out Kyber prekeys are exactly the uploaded ones')
    tt.equal(lastResort.length, 100, 'the other 100 carry the last-resort Kyber prekey')
    tt.same(lastResort, Array(100).fill(bob.device.pqLastResortPreKey))
    tt.same(
      ok.filter(
        (b) =>
          b.identityKey !== bob.device.identityKey ||
          JSON.stringify(b.signedPreKey) !== JSON.stringify(bob.device.signedPreKey),
      ),
      [],
      'every bundle is for bob’s identity and signed prekey',
    )

    const count = await apis[1].get(`/prekeys/${bob.registrationId}/`, { token: bob.token })
    tt.same([count.status, count.body], [200, { count: 0, pqCount: 0 }])
    const id = await deviceId(app, bob.id)
    tt.same(
      [await stored(app, 'ec', id), await stored(app, 'pq', id)],
      [[], []],
      'both one-time tables are empty for the device',
    )
    tt.equal(
      (await app.db.knex('pq_last_resort_prekeys').where({ device_id: id })).length,
      1,
      'the last-resort key stays',
    )
  },
)

t.test(race('uploads racing 150 claims: every key is handed out once or still stored, never both'), async (tt) => {
  const { app, apis, all } = await apps(tt, { maxPrekeys: 1000 })
  const bob = await recipient(apis[0], 100, 100)
  const callers = await requesters(apis[0], 8)
  const batches = {
    ec: [0, 1, 2, 3, 4].map((b) => preKeys(1001 + 20 * b, 20)),
    pq: [0, 1, 2, 3, 4].map((b) => kyberPreKeys(2001 + 20 * b, 20, bob.device.identityKey)),
  }
  // Uploads start spread among the claims, alternating apps, so they land mid-race.
  const claims: Promise<ApiResponse>[] = []
  const uploads: Promise<ApiResponse>[] = []
  const pools = watchPools(all)
  for (let i = 0; i < 150; i++) {
    const b = (i - 10) / 30
    if (Number.isInteger(b))
      uploads.push(upload(apis[b % 2], bob, 'ec', batches.ec[b]), upload(apis[(b + 1) % 2], bob, 'pq', batches.pq[b]))
    claims.push(claim(apis, callers, bob, i))
  }
  const [bundles, uploaded] = await Promise.all([Promise.all(claims), Promise.all(uploads)])
  assertOverlap(tt, pools.stop(), all.length)

  tt.same(statusCodes(uploaded), Array(10).fill(200), 'every upload answers 200')
  tt.same(statusCodes(bundles), Array(150).fill(200), 'every claim answers 200')
  const { ec, pq, lastResort } = handedOut(bundles)
  const id = await deviceId(app, bob.id)
  for (const [kind, out, initial] of [
    ['ec', ec, bob.device.preKeys],
    ['pq', pq, bob.device.pqPreKeys],
  ] as const) {
    const left = await stored(app, kind, id)
    tt.same(dupes(ids(out)), [], `${kind}: no key handed out twice`)
    tt.same(
      ids(out).filter((k) => ids(left).includes(k)),
      [],
      `${kind}: no key both handed out and still stored`,
    )
    tt.same(
      byKeyId([...out, ...left]),
      byKeyId([...initial, ...batches[kind].flat()]),
      `${kind}: handed out ∪ stored = initial ∪ uploaded`,
    )
  }
  tt.same(
    lastResort,
    Array(150 - pq.length).fill(bob.device.pqLastResortPreKey),
    'a bundle without a one-time Kyber key gets the last resort',
  )
  const count = await apis[0].get(`/prekeys/${bob.registrationId}/`, { token: bob.token })
  tt.same(count.body, { count: 200 - ec.length, pqCount: 200 - pq.length }, 'the count agrees')
})

for (const kind of ['ec', 'pq'] as const) {
  t.test(
    race(`${kind}: 10 racing uploads of 20 against a limit of 100: exactly 5 stored, all or nothing`),
    async (tt) => {
      const { app, apis, all } = await apps(tt, { maxPrekeys: 100 })
      const alice = await userWithDevice(apis[0], { preKeyCount: 0 })
      const batches = Array.from({ length: 10 }, (_, b) =>
        kind === 'ec' ? preKeys(1 + 20 * b, 20) : kyberPreKeys(1 + 20 * b, 20, alice.device.identityKey),
      )
      const pools = watchPools(all)
      const results = await Promise.all(batches.map((batch, b) => upload(apis[b % 2], alice, kind, batch)))
      assertOverlap(tt, pools.stop(), all.length)

      tt.same(statusCodes(results).sort(), [...Array(5).fill(200), ...Array(5).fill('400 reached_max_prekeys')].sort())
      const won = batches.filter((_, b) => results[b].status === 200)
      const left = await stored(app, kind, await deviceId(app, alice.id))
      tt.equal(left.length, 100, 'exactly the limit is stored')
      tt.same(left, byKeyId(won.flat()), 'exactly the keys of the accepted batches, with their keys')
    },
  )

  t.test(race(`${kind}: racing uploads sharing one keyId: one batch wins, the losers store nothing`), async (tt) => {
    const { app, apis, all } = await apps(tt, { maxPrekeys: 1000 })
    const alice = await userWithDevice(apis[0], { preKeyCount: 0 })
    const make = (from: number, n: number) =>
      kind === 'ec' ? preKeys(from, n) : kyberPreKeys(from, n, alice.device.identityKey)
    // Each batch: the contested keyId 5000 (a different key in each) and 19 keyIds of its own.
    const batches = Array.from({ length: 8 }, (_, b) => [...make(5000, 1), ...make(100 * (b + 1), 19)])
    const pools = watchPools(all)
    const results = await Promise.all(batches.map((batch, b) => upload(apis[b % 2], alice, kind, batch)))
    assertOverlap(tt, pools.stop(), all.length)

    tt.same(statusCodes(results).sort(), [200, ...Array(7).fill('400 prekey_id_exists')].sort())
    const winner = batches[results.findIndex((r) => r.status === 200)]
    tt.same(
      await stored(app, kind, await deviceId(app, alice.id)),
      byKeyId(winner ?? []),
      'only the winning batch is stored, keyId 5000 with its key',
    )
  })
}

// Per round: KEYS one-time keys of each kind, and at most KEYS claims, 6 in flight at a time.
const KEYS = 300
const WORKERS = 6

/** A recipient holding `KEYS` one-time keys of each kind: registered with 100, the rest uploaded (100 per request). */
async function largeRecipient(api: Api, user?: User) {
  const r = await recipient(api, 100, 100, user)
  const device = { ...r.device, preKeys: [...r.device.preKeys], pqPreKeys: [...r.device.pqPreKeys] }
  for (let from = 101; from <= KEYS; from += 100) {
    const ec = preKeys(from, 100)
    const pq = kyberPreKeys(from, 100, device.identityKey)
    const uploaded = [await upload(api, r, 'ec', ec), await upload(api, r, 'pq', pq)]
    if (uploaded.some((u) => u.status !== 200)) throw new Error(`upload failed: ${statusCodes(uploaded)}`)
    device.preKeys.push(...ec)
    device.pqPreKeys.push(...pq)
  }
  return { ...r, device }
}

t.test(
  race(
    'device deletion racing a stream of claims, 8 rounds: ' +
      'keys of that device only, never twice, then nothing of it left',
  ),
  async (tt) => {
    // A third instance for the deletion, so that it does not queue in a pool behind the claims.
    const {
      app,
      apis: [api1, api2, deleter],
      all,
    } = await apps(tt, { maxPrekeys: KEYS }, 3)
    const apis = [api1, api2]
    const callers = await requesters(apis[0], 8)
    let bob: Recipient | undefined
    let wonDuring = 0
    for (let round = 0; round < 8; round++) {
      // The same user each round: a re-registered device must not inherit the deleted one's keys.
      bob = await largeRecipient(apis[0], bob)
      const id = await deviceId(app, bob.id)
      // Also warms the deleter's pool, so that the deletion starts at once when fired.
      tt.same((await deleter.get(`/prekeys/${bob.registrationId}/`, { token: bob.token })).body, {
        count: KEYS,
        pqCount: KEYS,
      })
      // Claims stream in, WORKERS at a time, the DELETE is fired once `after` of them have answered,
      // and the stream goes on until the DELETE has answered: claims are in flight all the while it
      // runs. (Fired all at once, 100 claims queued ahead of the deletion or all behind it, and a
      // round rarely overlapped. A fixed 100 was not enough either: on PostgreSQL, claims holding
      // the device row FOR SHARE one after another can keep the DELETE waiting until they stop.)
      const after = [1, 3, 5, 10, 15, 20, 30, 40][round]
      const before: ApiResponse[] = []
      const timed: { res: ApiResponse; sent: number; answered: number }[] = []
      let fire!: () => void
      let window = { sent: 0, answered: 0 }
      const deletion = new Promise<void>((resolve) => (fire = resolve)).then(async () => {
        const sent = performance.now()
        const res = await deleter.delete('/device/', undefined, { token: bob!.token })
        window = { sent, answered: performance.now() }
        return res
      })
      let next = 0
      const worker = async () => {
        for (let i = next++; i < KEYS && !window.answered; i = next++) {
          const sent = performance.now()
          const res = await claim(apis, callers, bob!, i)
          timed[i] = { res, sent, answered: performance.now() }
          if (before.length < after && before.push(res) === after) fire()
        }
      }
      const pools = watchPools(all)
      const [, deleted] = await Promise.all([Promise.all(Array.from({ length: WORKERS }, worker)), deletion])
      assertOverlap(tt, pools.stop(), all.length)
      const results = timed.filter(Boolean).map((c) => c.res)
      tt.equal(results.length, next - WORKERS, `round ${round}: every claim started has answered`)

      // The round overlapped: some of its claims found the device, and claims in flight while the
      // deletion ran (sent before it answered, answered after it was sent) found it gone.
      const inFlight = timed.filter((c) => c && c.sent < window.answered && c.answered > window.sent)
      const foundDuring = inFlight.filter((c) => c.res.status === 200).length
      const goneDuring = inFlight.filter((c) => c.res.status === 404).length
      const found = results.filter((r) => r.status === 200).length
      tt.ok(
        found > 0 && goneDuring > 0,
        `round ${round}: ${found} of ${results.length} claims found the device; of the ${inFlight.length} ` +
          `in flight while the deletion ran, ${foundDuring} found it and ${goneDuring} found it gone`,
      )
      wonDuring += foundDuring

      tt.equal(deleted.status, 204, `round ${round}: the device is deleted`)
      tt.same(
        statusCodes(results).filter((s) => s !== 200 && s !== '404 no_recipient_device'),
        [],
        `round ${round}: every claim is 200 or 404 no_recipient_device`,
      )
      tt.same(statusCodes(before), Array(after).fill(200), 'claims answered before the deletion began found the device')
      // At most KEYS - 1 other claims ran against KEYS keys of each kind, so none of these can have missed out.
      tt.same(
        before.filter((r) => !r.body.preKey || r.body.pqPreKey?.lastResort !== false),
        [],
        'and each took a one-time prekey and Kyber prekey',
      )
      const { ok, ec, pq, lastResort } = handedOut(results)
      // At most KEYS claims against KEYS keys of each kind: a bundle without them would be of a device already gone.
      tt.same(
        ok.filter((b) => !b.preKey || b.pqPreKey?.lastResort !== false),
        [],
        `round ${round}: every bundle carries one-time keys`,
      )
      const d = bob.device
      const has = (set: Key[], k: Key) => set.some((s) => JSON.stringify(s) === JSON.stringify(k))
      tt.same(
        ok.filter(
          (b) =>
            b.identityKey !== d.identityKey ||
            b.registrationId !== bob!.registrationId ||
            !has([d.signedPreKey], b.signedPreKey),
        ),
        [],
        'bundles are of this device',
      )
      tt.same(
        ec.filter((k) => !has(d.preKeys, k)),
        [],
        'every prekey handed out was this device’s',
      )
      tt.same(
        pq.filter((k) => !has(d.pqPreKeys, k)),
        [],
        'every Kyber prekey handed out was this device’s',
      )
      tt.same(
        lastResort.filter((k) => !has([d.pqLastResortPreKey], k)),
        [],
        'so was every last-resort one',
      )
      tt.same([dupes(ids(ec)), dupes(ids(pq))], [[], []], 'no key handed out twice')
      for (const table of ['devices', 'prekeys', 'pq_prekeys', 'pq_last_resort_prekeys', 'signed_prekeys']) {
        const rows = await app.db.knex(table).where(table === 'devices' ? { id } : { device_id: id })
        tt.equal(rows.length, 0, `round ${round}: nothing of the device left in ${table}`)
      }
      tt.comment(
        `round ${round}: ${ok.length} bundles (${ec.length} prekeys, ${pq.length} Kyber), ` +
          `${results.filter((r) => r.status === 404).length} no_recipient_device`,
      )
    }

    // PostgreSQL runs the transactions side by side, so a claim in flight while the deletion ran
    // can also win; a single round may miss that (one of 48 measured rounds did), eight rounds
    // together practically cannot. On SQLite the transactions queue on one
    // connection, and there the deletion, with fewer statements to run than a claim, came out
    // ahead of every claim in flight in each of the 16 rounds measured: sequential by design.
    if (database === 'postgres')
      tt.ok(wonDuring > 0, `claims in flight while the deletion ran found the device too: ${wonDuring} in 8 rounds`)

    const fresh = await recipient(apis[1], 10, 10, bob)
    const callersNow = await requesters(apis[0], 2)
    const bundles = await Promise.all(Array.from({ length: 20 }, (_, i) => claim(apis, callersNow, fresh, i)))
    tt.same(statusCodes(bundles), Array(20).fill(200))
    const { ec, pq, lastResort } = handedOut(bundles)
    tt.same(
      [byKeyId(ec), byKeyId(pq)],
      [fresh.device.preKeys, fresh.device.pqPreKeys],
      'the new device’s keys, each once, none of a deleted device',
    )
    tt.same(lastResort, Array(10).fill(fresh.device.pqLastResortPreKey))
    tt.same(
      bundles.filter((r) => r.body.identityKey !== fresh.device.identityKey),
      [],
      'and its identity key',
    )
  },
)
