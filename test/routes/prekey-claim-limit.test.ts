import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, kyberPreKey, kyberPreKeys, userWithDevice, type Api } from '../helper.js'

// PREKEY_CLAIM_LIMIT: a device hands out at most so many one-time prekeys per window, whoever asks,
// so that no crowd of accounts can drain them. Past it, bundles still answer 200 with the signed
// prekey and the last-resort Kyber key: senders can always start a session.

const left = async (app: FastifyInstance, table: string, userId: number) =>
  Number(
    (
      await app.db
        .knex(table)
        .join('devices', 'devices.id', `${table}.device_id`)
        .where('devices.user_id', userId)
        .count({ n: '*' })
    )[0].n,
  )

/** A recipient with 10 EC and 10 Kyber one-time prekeys and a last-resort Kyber key. */
async function recipient(api: Api) {
  const bob = await userWithDevice(api)
  const pq = {
    pqPreKeys: kyberPreKeys(1, 10, bob.device.identityKey),
    pqLastResortPreKey: kyberPreKey(99, bob.device.identityKey),
  }
  const res = await api.post(`/pqprekeys/${bob.registrationId}/`, pq, { token: bob.token })
  if (res.status !== 200) throw new Error(`pq upload: ${res.status}`)
  return bob
}

t.test('past the limit, requests from many accounts get bundles without one-time keys', async (tt) => {
  const { app, api } = await build(tt, { prekeyClaimLimit: '3/hour', metricsToken: 'metrics-token-for-tests-1234' })
  const bob = await recipient(api)
  const askers = await Promise.all(Array.from({ length: 6 }, () => userWithDevice(api)))
  const bundles = []
  for (const a of askers) {
    const res = await api.get(`/prekeybundle/${encodeURIComponent(bob.email)}/${a.registrationId}/`, { token: a.token })
    tt.equal(res.status, 200, 'every bundle is answered')
    bundles.push(res.body)
  }
  tt.same(
    bundles.map((b) => [Boolean(b.preKey), b.pqPreKey?.lastResort]),
    [
      [true, false],
      [true, false],
      [true, false],
      [false, true],
      [false, true],
      [false, true],
    ],
    'three with one-time keys, then the signed prekey and the last-resort Kyber key only',
  )
  tt.ok(
    bundles.every((b) => b.signedPreKey.keyId === bob.device.signedPreKey.keyId),
    'every bundle has the signed prekey',
  )
  tt.same([await left(app, 'prekeys', bob.id), await left(app, 'pq_prekeys', bob.id)], [7, 7], 'seven of each left')

  const all = await api.get(`/v2/keys/${encodeURIComponent(bob.email)}/*/`, { token: askers[0].token })
  tt.equal(all.status, 200)
  tt.notOk(all.body.devices[0].preKey, 'the multi-device fetch counts against the same limit')
  // off-contract: /metrics is for Prometheus, outside openapi.yaml (README: Metrics).
  const metrics = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: 'Bearer metrics-token-for-tests-1234' },
  })
  tt.match(metrics.body, /^prekey_bundles_limited_total 4$/m, 'the metric counts the four limited bundles')
})

t.test('the limit holds under concurrent claims and counts per device, not per asker', async (tt) => {
  const { app, api } = await build(tt, { prekeyClaimLimit: '4/hour' })
  const bob = await recipient(api)
  const carol = await recipient(api)
  const asker = await userWithDevice(api)
  const claim = (email: string) =>
    api.get(`/prekeybundle/${encodeURIComponent(email)}/${asker.registrationId}/`, { token: asker.token })
  const answers = await Promise.all([...Array(12).fill(bob.email), ...Array(12).fill(carol.email)].map(claim))
  tt.ok(
    answers.every((a) => a.status === 200),
    'all 200',
  )
  for (const who of [bob, carol]) {
    const mine = answers.filter((a) => a.body.address === who.device.address)
    tt.equal(mine.filter((a) => a.body.preKey).length, 4, `${who.email}: exactly four one-time prekeys handed out`)
    tt.equal(await left(app, 'prekeys', who.id), 6, 'six left')
    tt.equal(await left(app, 'pq_prekeys', who.id), 6, 'six Kyber left')
  }
})

t.test('a new window hands out one-time keys again; off disables the limit', async (tt) => {
  const { app, api } = await build(tt, { prekeyClaimLimit: '1/hour' })
  const bob = await recipient(api)
  const asker = await userWithDevice(api)
  const claim = () =>
    api.get(`/prekeybundle/${encodeURIComponent(bob.email)}/${asker.registrationId}/`, { token: asker.token })
  tt.ok((await claim()).body.preKey, 'the first')
  tt.notOk((await claim()).body.preKey, 'the second is limited')
  // The window started an hour and a moment ago.
  await app.db.knex('prekey_claims').update({ window_started_at: Date.now() - 3_600_001 })
  tt.ok((await claim()).body.preKey, 'a new window')

  const { api: free } = await build(tt, { prekeyClaimLimit: 'off' })
  const dave = await recipient(free)
  const other = await userWithDevice(free)
  for (let i = 0; i < 10; i++) {
    const res = await free.get(`/prekeybundle/${encodeURIComponent(dave.email)}/${other.registrationId}/`, {
      token: other.token,
    })
    tt.ok(res.body.preKey, `off: claim ${i + 1} has a one-time prekey`)
  }
})
