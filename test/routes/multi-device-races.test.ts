import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { deviceBody, kyberPreKey, kyberPreKeys, signUp, userWithDevice, type Api, type ApiResponse } from '../helper.js'
import { apps, assertOverlap, race, watchPools } from '../races.js'

// Races of the multi-device API (issue 13): a send racing the removal of one of the recipient's
// devices, registrations racing at MAX_DEVICES (and on one registration ID, and on the first
// device), claims over `*` racing each other and legacy claims. As in key-races.test.ts: on
// PostgreSQL the requests go over two or three app instances on one database, so that several
// connection pools compete, and each race asserts that its database work overlapped (every pool had
// connections out, more than one at once). On SQLite (one process, one connection that serialises
// writers, see the README) the requests are in flight together over one instance but their
// transactions run one at a time, by design: the test names say so, and assert that the connection
// was never shared.

type User = Awaited<ReturnType<typeof signUp>>

const statusCodes = (rs: ApiResponse[]) => rs.map((r) => (r.status < 300 ? r.status : `${r.status} ${r.body?.code}`))
const sortedCodes = (rs: ApiResponse[]) => statusCodes(rs).map(String).sort()
const dupes = <X>(xs: X[]) => xs.filter((x, i) => xs.indexOf(x) !== i)
const count = async (query: PromiseLike<{ n: unknown }[]>) => Number((await query)[0].n)

let nextRegistrationId = 700000
/** A device body holding `ec` prekeys and `pq` Kyber prekeys (keyIds from 1) and a last-resort Kyber prekey. */
function fullDevice(email: string, ec = 5, pq = 0, registrationId = ++nextRegistrationId) {
  const base = deviceBody(registrationId, `${email}.${registrationId}`, ec)
  return {
    ...base,
    pqPreKeys: kyberPreKeys(1, pq, base.identityKey),
    pqLastResortPreKey: kyberPreKey(9999, base.identityKey),
  }
}
type Body = ReturnType<typeof fullDevice>

type Device = { deviceId: number; registrationId: number; row: number; token: string; body: Body }
/** Adds a device to the account through POST /v2/devices/: its number, row key and bound token. */
async function addDevice(app: FastifyInstance, api: Api, user: User, body = fullDevice(user.email)): Promise<Device> {
  const res = await api.post('/v2/devices/', body, { token: user.token })
  if (res.status !== 201) throw new Error(`POST /v2/devices/ failed: ${res.status} ${res.text}`)
  const row = await app.db.knex('devices').where({ user_id: user.id, device_id: res.body.deviceId }).first()
  return {
    deviceId: res.body.deviceId,
    registrationId: body.registrationId,
    row: row.id,
    token: res.body.auth_token,
    body,
  }
}

const removeDevice = (api: Api, user: User, deviceId: number) =>
  api.delete(`/v2/devices/${deviceId}/`, { currentPassword: user.password }, { token: user.token })

const put = (api: Api, url: string, body: unknown, token: string) => api.request('PUT', url, body, { token })

// ---- 1. sends racing a device removal -------------------------------------------------------

const SEND_ROUNDS = 24
// Senders in flight at any time: the even ones name all three devices, the odd ones the two that stay.
const SENDERS = 4

type Send = {
  round: number
  i: number
  shape: 'all' | 'kept'
  targets: Device[]
  res: ApiResponse
  sent: number
  answered: number
}

t.test(
  race(
    `a send racing the removal of one of the recipient's 3 devices, ${SEND_ROUNDS} rounds: ` +
      'all stored or nothing, nothing left for the removed device',
  ),
  async (tt) => {
    // A third instance for the removal, so that it does not queue in a pool behind the sends.
    const {
      app,
      apis: [api1, api2, remover],
      all,
    } = await apps(tt, {}, 3)
    const apis = [api1, api2]
    const knex = app.db.knex
    // Two senders with tokens bound to their device, one on each instance.
    const senders = await Promise.all(apis.map(async (api) => addDevice(app, api, await signUp(api))))
    const bob = await signUp(api1)
    const url = `/v2/messages/${encodeURIComponent(bob.email)}/`
    let devices: Device[] = []
    // Every message an accepted send stored, by id, as the table must hold it.
    const expected = new Map<number, { recipient_device_id: number; content: string }>()
    const inFlightOutcomes = { before: 0, after: 0 }

    for (let round = 0; round < SEND_ROUNDS; round++) {
      // The same account each round: a new device replaces the one removed, under a new number.
      while (devices.length < 3) devices.push(await addDevice(app, api1, bob))
      const gone = devices[round % 3]
      const kept = devices.filter((d) => d !== gone)
      // Also warms the remover's pool, so that the removal starts at once when fired.
      const listed = await remover.get('/v2/devices/', { token: bob.token })
      tt.same(
        listed.body.devices.map((d: { deviceId: number }) => d.deviceId),
        devices.map((d) => d.deviceId),
        `round ${round}: the account has its 3 devices`,
      )

      // Sends stream in, SENDERS at a time, the removal is fired once `after` of them have answered,
      // and each sender goes on until it has sent once after the removal answered: sends are in
      // flight all the while the removal runs, and some of each shape come after it.
      const after = [1, 2, 3, 5, 8, 12][round % 6]
      const sends: Send[] = []
      let answered = 0
      let fire!: () => void
      let window = { sent: 0, answered: 0 }
      const removal = new Promise<void>((resolve) => (fire = resolve)).then(async () => {
        const sent = performance.now()
        const res = await removeDevice(remover, bob, gone.deviceId)
        window = { sent, answered: performance.now() }
        return res
      })
      let next = 0
      const sender = async (w: number) => {
        const shape = w % 2 === 0 ? 'all' : 'kept'
        const targets = shape === 'all' ? devices : kept
        for (;;) {
          const i = next++
          const body = {
            messages: targets.map((d) => ({
              deviceId: d.deviceId,
              registrationId: d.registrationId,
              content: `r${round}.s${i}.d${d.deviceId}`,
            })),
            timestamp: Date.now(),
          }
          const sent = performance.now()
          const res = await put(apis[i % 2], url, body, senders[i % 2].token)
          sends.push({ round, i, shape, targets, res, sent, answered: performance.now() })
          if (++answered === after) fire()
          if (window.answered && sent > window.answered) return
        }
      }
      const pools = watchPools(all)
      const [, removed] = await Promise.all([
        Promise.all(Array.from({ length: SENDERS }, (_, w) => sender(w))),
        removal,
      ])
      assertOverlap(tt, pools.stop(), all.length)
      tt.equal(removed.status, 204, `round ${round}: device ${gone.deviceId} is removed`)
      devices = kept

      // Every send is either stored for each device it named, or refused as a mismatch naming the
      // removed device; the shape of each answer follows from the devices the send named.
      const names = (d: Device[]) => d.map((x) => x.deviceId)
      const wrong = sends.filter(({ shape, targets, res }) => {
        if (res.status === 200)
          return (
            JSON.stringify(res.body.messages.map((m: { deviceId: number }) => m.deviceId)) !== `[${names(targets)}]`
          )
        if (res.status !== 409 || res.body.code !== 'mismatched_devices') return true
        const mismatch = { missing: res.body.missingDevices, extra: res.body.extraDevices }
        const want = shape === 'all' ? { missing: [], extra: [gone.deviceId] } : { missing: [gone.deviceId], extra: [] }
        return JSON.stringify(mismatch) !== JSON.stringify(want)
      })
      tt.same(
        wrong.map((s) => `send ${s.i} (${s.shape}): ${s.res.status} ${s.res.text}`),
        [],
        `round ${round}: every send of ${sends.length} is 200 for the devices it named or 409 mismatched_devices`,
      )

      // One removal, one point in time: a send before it can only be stored for all three devices,
      // one after it only for the two that stay.
      const ok = (s: Send) => s.res.status === 200
      tt.same(
        sends.filter((s) => s.answered < window.sent && ok(s) !== (s.shape === 'all')).map((s) => s.i),
        [],
        `round ${round}: sends answered before the removal was sent were stored for all three devices, and only those`,
      )
      tt.same(
        sends.filter((s) => s.sent > window.answered && ok(s) !== (s.shape === 'kept')).map((s) => s.i),
        [],
        `round ${round}: sends made after the removal answered were stored for the two devices left, and only those`,
      )
      tt.same(
        ['all', 'kept'].map((shape) => sends.some((s) => s.shape === shape && s.sent > window.answered)),
        [true, true],
        `round ${round}: both shapes were sent after the removal too`,
      )
      const inFlight = sends.filter((s) => s.sent < window.answered && s.answered > window.sent)
      tt.ok(inFlight.length > 0, `round ${round}: ${inFlight.length} sends were in flight while the removal ran`)
      // A send in flight stored before the removal named all three devices, one stored after it two.
      const before = inFlight.filter((s) => ok(s) === (s.shape === 'all')).length
      inFlightOutcomes.before += before
      inFlightOutcomes.after += inFlight.length - before

      // The table: each accepted send's messages, less those of the removed device, and nothing else.
      for (const s of sends.filter(ok))
        for (const m of s.res.body.messages as { deviceId: number; id: number }[])
          expected.set(m.id, {
            recipient_device_id: s.targets.find((d) => d.deviceId === m.deviceId)!.row,
            content: `r${round}.s${s.i}.d${m.deviceId}`,
          })
      for (const [id, m] of expected) if (m.recipient_device_id === gone.row) expected.delete(id)
      tt.same(await knex('devices').where({ id: gone.row }), [], `round ${round}: the removed device's row is gone`)
      tt.same(
        await knex('messages').where({ recipient_device_id: gone.row }),
        [],
        `round ${round}: no message is queued for the removed device`,
      )
      const rows = await knex('messages').select('id', 'recipient_device_id', 'content').orderBy('id')
      const mine = rows.filter((r) => r.content.startsWith(`r${round}.`))
      const half = sends.filter((s) => {
        const stored = mine.filter((r) => r.content.startsWith(`r${round}.s${s.i}.`)).length
        return stored !== (ok(s) ? s.targets.filter((d) => d !== gone).length : 0)
      })
      tt.same(
        half.map((s) => `send ${s.i} (${s.shape}, ${s.res.status})`),
        [],
        `round ${round}: an accepted send is stored for each device it named that stays, a refused one not at all`,
      )
      tt.same(
        rows.map((r) => ({ ...r, id: Number(r.id) })),
        [...expected].sort(([a], [b]) => a - b).map(([id, m]) => ({ id, ...m })),
        `round ${round}: the queue holds exactly the accepted sends' messages to devices that exist`,
      )
      // The queue lengths the triggers keep agree with the rows, after racing inserts and cascades.
      const lengths = await knex('devices')
        .whereIn(
          'id',
          devices.map((d) => d.row),
        )
        .orderBy('id')
      tt.same(
        lengths.map((d) => Number(d.queued_messages)),
        lengths.map((d) => [...expected.values()].filter((m) => m.recipient_device_id === d.id).length),
        `round ${round}: each device's queue length counts its rows`,
      )
      tt.comment(
        `round ${round}: ${sends.length} sends, ${sends.filter(ok).length} stored; ` +
          `of ${inFlight.length} in flight during the removal, ${before} went before it`,
      )
    }
    tt.comment(
      `sends in flight while a removal ran: ${inFlightOutcomes.before} were ordered before it, ` +
        `${inFlightOutcomes.after} after it`,
    )
    // Across all rounds, sends in flight with the removal came out on both sides of it: the
    // removal really raced the sends, rather than running before or after all of them.
    tt.ok(
      inFlightOutcomes.before > 0 && inFlightOutcomes.after > 0,
      'sends in flight while the removal ran were ordered before it and after it',
    )
  },
)

// ---- 2. registrations racing ----------------------------------------------------------------

t.test(race('8 registrations racing at MAX_DEVICES 3, 4 rounds: exactly 2 get in, never more than 3'), async (tt) => {
  const { app, apis, all } = await apps(tt, { maxDevices: 3 })
  const knex = app.db.knex
  const alice = await userWithDevice(apis[0], { preKeyCount: 3 })
  for (let round = 0; round < 4; round++) {
    const { last_device_id: last } = await knex('users').where({ id: alice.id }).first()
    const bodies = Array.from({ length: 8 }, () => fullDevice(alice.email, 4, 2))
    const pools = watchPools(all)
    const results = await Promise.all(
      bodies.map((body, i) => apis[i % 2].post('/v2/devices/', body, { token: alice.token })),
    )
    assertOverlap(tt, pools.stop(), all.length)

    tt.same(
      sortedCodes(results),
      ['201', '201', ...Array(6).fill('403 too_many_devices')].sort(),
      `round ${round}: exactly 2 of 8 get in, the others are 403 too_many_devices`,
    )
    const won = results.flatMap((r, i) => (r.status === 201 ? [{ deviceId: r.body.deviceId, body: bodies[i] }] : []))
    tt.same(
      won.map((w) => w.deviceId).sort((a, b) => a - b),
      [Number(last) + 1, Number(last) + 2],
      `round ${round}: the winners get the next two numbers; refused registrations use none`,
    )
    const listed = await apis[1].get('/v2/devices/', { token: alice.token })
    tt.same(
      listed.body.devices.map((d: { deviceId: number; registrationId: number }) => [d.deviceId, d.registrationId]),
      [
        [1, alice.registrationId],
        ...won.sort((a, b) => a.deviceId - b.deviceId).map((w) => [w.deviceId, w.body.registrationId]),
      ],
      `round ${round}: the account holds its first device and the 2 winners`,
    )
    const rows = await knex('devices').where({ user_id: alice.id })
    tt.equal(rows.length, 3, `round ${round}: exactly 3 device rows`)
    const ids = rows.map((r) => r.id)
    tt.same(
      [
        await count(knex('prekeys').whereIn('device_id', ids).count({ n: '*' })),
        await count(knex('pq_prekeys').whereIn('device_id', ids).count({ n: '*' })),
        await count(knex('signed_prekeys').count({ n: '*' })),
        await count(knex('pq_last_resort_prekeys').count({ n: '*' })),
      ],
      [3 + 2 * 4, 2 * 2, 3, 2],
      `round ${round}: keys of the 3 devices only; the refused registrations stored none`,
    )
    // Back to one device for the next round.
    for (const w of won) tt.equal((await removeDevice(apis[0], alice, w.deviceId)).status, 204)
  }
})

t.test(race('8 registrations racing with one registration ID, 3 rounds: one 201, the others 409'), async (tt) => {
  const { app, apis, all } = await apps(tt)
  const knex = app.db.knex
  const alice = await userWithDevice(apis[0], { preKeyCount: 3 })
  for (let round = 0; round < 3; round++) {
    const registrationId = ++nextRegistrationId
    const bodies = Array.from({ length: 8 }, () => fullDevice(alice.email, 4, 2, registrationId))
    const pools = watchPools(all)
    const results = await Promise.all(
      bodies.map((body, i) => apis[i % 2].post('/v2/devices/', body, { token: alice.token })),
    )
    assertOverlap(tt, pools.stop(), all.length)

    tt.same(
      sortedCodes(results),
      ['201', ...Array(7).fill('409 registration_id_in_use')].sort(),
      `round ${round}: one registration gets in, the others are 409 registration_id_in_use`,
    )
    const winner = bodies[results.findIndex((r) => r.status === 201)]
    const rows = await knex('devices').where({ user_id: alice.id, registration_id: registrationId })
    tt.same(
      rows.map((r) => r.identity_key),
      [winner?.identityKey],
      `round ${round}: one device holds the registration ID, with the winner's identity key`,
    )
    tt.equal(
      await count(knex('devices').where({ user_id: alice.id }).count({ n: '*' })),
      round + 2,
      `round ${round}: one more device per round`,
    )
    tt.same(
      (await knex('prekeys').where({ device_id: rows[0]?.id }).orderBy('key_id')).map((k) => k.public_key),
      winner?.preKeys.map((k) => k.publicKey),
      `round ${round}: the device's prekeys are the winner's`,
    )
  }
  tt.equal(await count(knex('prekeys').count({ n: '*' })), 3 + 3 * 4, 'no refused registration left a prekey behind')
})

t.test(
  race('8 first-device registrations racing on a fresh account, 3 rounds: one 201, the others 403'),
  async (tt) => {
    const { app, apis, all } = await apps(tt)
    const knex = app.db.knex
    for (let round = 0; round < 3; round++) {
      const user = await signUp(apis[round % 2])
      const bodies = Array.from({ length: 8 }, () => fullDevice(user.email, 4, 2))
      const pools = watchPools(all)
      const results = await Promise.all(
        bodies.map((body, i) => apis[i % 2].post('/device/', body, { token: user.token })),
      )
      assertOverlap(tt, pools.stop(), all.length)

      tt.same(
        sortedCodes(results),
        ['201', ...Array(7).fill('403 device_exists')].sort(),
        `round ${round}: one registration gets in, the others are 403 device_exists`,
      )
      tt.same(
        results.filter((r) => r.status === 201).map((r) => r.body.deviceId),
        [1],
        `round ${round}: it is device 1`,
      )
      const winner = bodies[results.findIndex((r) => r.status === 201)]
      const rows = await knex('devices').where({ user_id: user.id })
      tt.same(
        rows.map((r) => [r.device_id, r.registration_id, r.identity_key]),
        [[1, winner?.registrationId, winner?.identityKey]],
        `round ${round}: the account holds one device, the winner's`,
      )
      tt.same(
        [
          await count(knex('prekeys').where({ device_id: rows[0]?.id }).count({ n: '*' })),
          await count(knex('pq_prekeys').where({ device_id: rows[0]?.id }).count({ n: '*' })),
        ],
        [4, 2],
        `round ${round}: with the winner's keys only`,
      )
    }
    tt.same(
      [await count(knex('prekeys').count({ n: '*' })), await count(knex('pq_prekeys').count({ n: '*' }))],
      [3 * 4, 3 * 2],
      'no refused registration left a key behind',
    )
  },
)

// ---- 3. claims over `*` --------------------------------------------------------------------

// Per device N one-time keys of each kind; per round V claims over `*` and L legacy claims (of
// device 1, the lowest-numbered): device 1 is claimed V + L times and runs out of keys, devices 2
// and 3 are claimed V times and keep N - V each.
const N = 60
const V = 50
const L = 20

type Key = { keyId: number; publicKey: string; signature?: string }
type Bundle = {
  deviceId?: number
  registrationId: number
  identityKey: string
  signedPreKey: Key
  preKey?: Key
  pqPreKey?: Key & { lastResort: boolean }
}

t.test(
  race(`${V} claims over * and ${L} legacy claims racing on 3 devices of ${N} keys each, 3 rounds: no key twice`),
  async (tt) => {
    const { app, apis, all } = await apps(tt, { throttlePrekeybundle: '100000/day' })
    const knex = app.db.knex
    const callers = await Promise.all(Array.from({ length: 6 }, () => userWithDevice(apis[0], { preKeyCount: 0 })))
    for (let round = 0; round < 3; round++) {
      const bob = await signUp(apis[0])
      const devices: Device[] = []
      for (let d = 0; d < 3; d++) devices.push(await addDevice(app, apis[d % 2], bob, fullDevice(bob.email, N, N)))
      const star = `/v2/keys/${encodeURIComponent(bob.email)}/*/`
      const isLegacy = (i: number) => i % 7 === 3 || i % 7 === 6
      const pools = watchPools(all)
      const answers = await Promise.all(
        Array.from({ length: V + L }, (_, i) => {
          const caller = callers[i % callers.length]
          const path = isLegacy(i) ? `/prekeybundle/${encodeURIComponent(bob.email)}/${caller.registrationId}/` : star
          return apis[i % 2].get(path, { token: caller.token })
        }),
      )
      assertOverlap(tt, pools.stop(), all.length)

      tt.same(statusCodes(answers), Array(V + L).fill(200), `round ${round}: every claim answers 200`)
      const legacy = answers.filter((_, i) => isLegacy(i))
      tt.equal(legacy.length, L)
      // Every bundle handed out, with the device it is of (a legacy bundle is of device 1).
      const bundles: Bundle[] = [
        ...answers.filter((_, i) => !isLegacy(i)).flatMap((r) => r.body.devices as Bundle[]),
        ...legacy.map((r) => ({ ...(r.body as Bundle), deviceId: devices[0].deviceId })),
      ]
      tt.same(
        answers
          .filter((_, i) => !isLegacy(i))
          .filter((r) => `${r.body.devices.map((b: Bundle) => b.deviceId)}` !== `${devices.map((d) => d.deviceId)}`),
        [],
        `round ${round}: every claim over * carries a bundle of each of the 3 devices`,
      )
      tt.same(
        bundles.filter((b) => {
          const d = devices.find((x) => x.deviceId === b.deviceId)!
          return (
            b.registrationId !== d.registrationId ||
            b.identityKey !== d.body.identityKey ||
            JSON.stringify(b.signedPreKey) !== JSON.stringify(d.body.signedPreKey)
          )
        }),
        [],
        `round ${round}: each bundle carries its device's registration ID, identity key and signed prekey`,
      )

      for (const kind of ['ec', 'pq'] as const) {
        const handed = bundles.flatMap((b) => {
          const k = kind === 'ec' ? b.preKey : b.pqPreKey?.lastResort === false ? b.pqPreKey : undefined
          return k ? [{ deviceId: b.deviceId!, keyId: k.keyId, publicKey: k.publicKey }] : []
        })
        tt.same(
          dupes(handed.map((k) => `${k.deviceId}:${k.keyId}`)),
          [],
          `round ${round}, ${kind}: no (device, key) handed out twice`,
        )
        for (const d of devices) {
          const claims = bundles.filter((b) => b.deviceId === d.deviceId).length
          const out = handed.filter((k) => k.deviceId === d.deviceId)
          const left = await knex(kind === 'ec' ? 'prekeys' : 'pq_prekeys')
            .where({ device_id: d.row })
            .orderBy('key_id')
          tt.equal(
            out.length + left.length,
            N,
            `round ${round}, ${kind}, device ${d.deviceId}: handed out + left = ${N}`,
          )
          tt.same(
            [...out.map((k) => [k.keyId, k.publicKey]), ...left.map((r) => [r.key_id, r.public_key])].sort(
              (a, b) => (a[0] as number) - (b[0] as number),
            ),
            (kind === 'ec' ? d.body.preKeys : d.body.pqPreKeys).map((k) => [k.keyId, k.publicKey]),
            `round ${round}, ${kind}, device ${d.deviceId}: handed out ∪ left = its uploaded keys, none both`,
          )
          tt.equal(
            out.length,
            Math.min(claims, N),
            `round ${round}, ${kind}, device ${d.deviceId}: ${claims} claims took ${out.length} keys; ` +
              'a claim goes without one only when none is left',
          )
        }
      }
      tt.same(
        bundles
          .filter((b) => b.pqPreKey?.lastResort !== false)
          .filter((b) => {
            const d = devices.find((x) => x.deviceId === b.deviceId)!
            return JSON.stringify(b.pqPreKey) !== JSON.stringify({ ...d.body.pqLastResortPreKey, lastResort: true })
          }),
        [],
        `round ${round}: a bundle without a one-time Kyber prekey carries its device's last-resort one`,
      )
    }
  },
)
