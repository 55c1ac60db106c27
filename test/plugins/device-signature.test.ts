import t, { type Test } from 'tap'
import type { KeyObject } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import { operations, spec } from '../../lib/spec.js'
import { documentedCodes } from '../security/authz-cases.js'
import { diff, snapshot } from '../security/db-snapshot.js'
import { build, deviceBody, signUp } from '../helper.js'
import {
  cases,
  rawSignature,
  send,
  signatureHeader,
  signedSend,
  signingKeyPair,
  signingWorld,
  storedCounter,
  type Case,
  type Req,
  type World,
} from '../signing.js'

// Proves openapi.yaml's `Signature` parameter on every `x-device-signed` operation: a device that
// registered a signingKey acts only through requests signed with it, each with a fresh counter; one
// that did not works as before. Every refusal is 401 invalid_request_signature (the client checks
// the status and error shape against the contract), changes no row and uses up no counter.

const signedOps = [...operations.values()].filter((op) => op.deviceSigned)
// Deleting the device ends every other operation, so it goes last.
const ordered = [
  ...signedOps.filter((op) => op.operationId !== 'deleteDevice'),
  ...signedOps.filter((op) => op.operationId === 'deleteDevice'),
]

/** The device's signing key and its key's counter; undefined once the device is gone. */
async function deviceRow(w: World) {
  const row = await w.app.db.knex('devices').where({ user_id: w.alice.id }).first('signing_key')
  return row && { ...row, signing_counter: await storedCounter(w.app, w.alice.id) }
}

async function refused(tt: Test, w: World, label: string, req: Req, header: string | string[] | undefined) {
  const before = await snapshot(w.app)
  const res = await send(w.api, w.alice.token, req, header)
  tt.equal(res.status, 401, `${label}: 401`)
  tt.equal(res.body?.code, 'invalid_request_signature', `${label}: invalid_request_signature`)
  tt.same(diff(before, await snapshot(w.app)), [], `${label}: nothing changed`)
}

/** The body with one digit changed, still valid for the operation (a base64 digest's last character is left alone). */
function oneByteChanged(body: string): string {
  const i = [...body].findIndex((c, index) => /[0-9]/.test(c) && body[index + 1] !== '=')
  if (i < 0) throw new Error(`no digit to change in ${body}`)
  return body.slice(0, i) + String((Number(body[i]) + 1) % 10) + body.slice(i + 1)
}

/** Requests that are the valid `req` with counter `n` but for one thing wrong, each with its label. */
function forgeries(
  req: Req,
  n: number,
  key: KeyObject,
  otherKey: KeyObject,
): [string, Req, string | string[] | undefined][] {
  const { method, url, body } = req
  const sig = rawSignature(key, n, method, url, body)
  const valid = `${n}.${sig.toString('base64')}`
  const over = (m: string, u: string, b: string | undefined) => signatureHeader(key, n, m, u, b)
  const otherMethod = ({ GET: 'POST', POST: 'GET', PUT: 'POST', DELETE: 'POST' } as Record<string, string>)[method]
  const bodyCases: [string, Req, string][] = body
    ? [
        ['a body one byte different from the signed one', { ...req, body: oneByteChanged(body) }, valid],
        [
          'the signed body re-serialized with other whitespace',
          { ...req, body: JSON.stringify(JSON.parse(body), null, 2) },
          valid,
        ],
        ['a signature over no body', req, over(method, url, undefined)],
      ]
    : [['a signature over a body that was not sent', req, over(method, url, '{}')]]
  return [
    ['no Signature header', req, undefined],
    ['an empty Signature header', req, ''],
    ['no dot', req, valid.replace('.', '')],
    ['counter 0', req, signatureHeader(key, 0, method, url, body)],
    ['a negative counter', req, signatureHeader(key, -n, method, url, body)],
    ['a counter that is not a number', req, signatureHeader(key, 'abc', method, url, body)],
    ['a signature one byte short', req, `${n}.${sig.subarray(0, 63).toString('base64')}`],
    ['a signature one byte long', req, `${n}.${Buffer.concat([sig, Buffer.from([0])]).toString('base64')}`],
    // Node (and app.inject) hand a repeated header over joined with ", ": it must not pass for one.
    ['two Signature headers', req, [valid, valid]],
    ['two signatures joined in one header, as a proxy would', req, `${valid}, ${valid}`],
    ['a signature by another key', req, signatureHeader(otherKey, n, method, url, body)],
    ['a signature over the path without its trailing slash', req, over(method, url.replace(/\/$/, ''), body)],
    ['a signature over another path', req, over(method, url === '/device/' ? '/prekeys/1/' : '/device/', body)],
    [`a signature over ${otherMethod} instead of ${method}`, req, over(otherMethod, url, body)],
    ['a signature over the method in lower case', req, over(method.toLowerCase(), url, body)],
    ...bodyCases,
    ['a query string the signature does not cover', { ...req, url: `${url}?page=2` }, valid],
  ]
}

t.test(
  'the signed operations are exactly those with a case here, and each documents the header and the refusal',
  async (tt) => {
    tt.same(signedOps.map((op) => op.operationId).sort(), Object.keys(cases).sort())
    for (const op of signedOps) {
      const params = spec.paths[op.path][op.method.toLowerCase()].parameters ?? []
      tt.ok(
        params.some((p: { $ref?: string }) => p.$ref === '#/components/parameters/Signature'),
        `${op.operationId}: declares Signature`,
      )
      tt.ok(
        documentedCodes(op, 401).includes('invalid_request_signature'),
        `${op.operationId}: 401 documents invalid_request_signature`,
      )
    }
  },
)

t.test(
  'a device without signingKey: every signed operation works as before, with or without a Signature header',
  async (tt) => {
    const w = await signingWorld(tt)
    tt.same(await deviceRow(w), { signing_key: null, signing_counter: 0 })
    for (const op of ordered) {
      const plain = await cases[op.operationId](w)
      const res = await send(w.api, w.alice.token, plain)
      tt.equal(res.status, plain.ok, `${op.operationId}: ${plain.ok} without a header`)
      tt.ok(await plain.check(res), `${op.operationId}: the expected answer`)
      if (op.operationId === 'deleteDevice') break
      // A header that verifies against nothing is ignored: the device has no key to check it with.
      const withHeader = await cases[op.operationId](w)
      const again = await send(w.api, w.alice.token, withHeader, `1.${randomBytes(64).toString('base64')}`)
      tt.equal(again.status, withHeader.ok, `${op.operationId}: ${withHeader.ok} with a stray header`)
      tt.ok(await withHeader.check(again), `${op.operationId}: the expected answer with a stray header`)
    }
    tt.equal(await deviceRow(w), undefined, 'the device was deleted without a signature')
  },
)

t.test('a device with signingKey: every signed operation needs an exact signature with a fresh counter', async (tt) => {
  const key = signingKeyPair()
  const otherKey = signingKeyPair()
  const w = await signingWorld(tt, key)
  tt.same(await deviceRow(w), { signing_key: key.publicKey, signing_counter: 0 })
  let last = 0
  for (const [i, op] of ordered.entries()) {
    await tt.test(op.operationId, async (ttt) => {
      // Counters with gaps: only "greater than the last accepted" is required.
      const n = 10 * (i + 1)
      const req: Case = await cases[op.operationId](w)
      for (const [label, forged, header] of forgeries(req, n, key.privateKey, otherKey.privateKey))
        await refused(ttt, w, label, forged, header)
      ttt.equal(await storedCounter(w.app, w.alice.id), last, 'the refusals used up no counter')

      const header = signatureHeader(key.privateKey, n, req.method, req.url, req.body)
      const res = await send(w.api, w.alice.token, req, header)
      ttt.equal(res.status, req.ok, `signed with counter ${n}: ${req.ok}`)
      ttt.ok(await req.check(res), 'the expected answer')
      if (op.operationId === 'deleteDevice') {
        ttt.equal(await deviceRow(w), undefined, 'the device is gone')
        const before = await snapshot(w.app)
        const replay = await send(w.api, w.alice.token, req, header)
        ttt.same([replay.status, replay.body.code], [404, 'no_device'], 'replayed: nothing left to delete')
        ttt.same(diff(before, await snapshot(w.app)), [], 'replayed: nothing changed')
        return
      }
      ttt.equal(await storedCounter(w.app, w.alice.id), n, 'the counter advanced to the one used')
      last = n

      await refused(ttt, w, 'the same request replayed', req, header)
      const fresh = await cases[op.operationId](w)
      await refused(
        ttt,
        w,
        'a new request with a lower counter',
        fresh,
        signatureHeader(key.privateKey, n - 1, fresh.method, fresh.url, fresh.body),
      )
      await refused(
        ttt,
        w,
        'a new request with the same counter',
        fresh,
        signatureHeader(key.privateKey, n, fresh.method, fresh.url, fresh.body),
      )
      ttt.equal(await storedCounter(w.app, w.alice.id), n, 'still the counter last accepted')
    })
  }
})

t.test('the query string is signed: only the exact query the signature covers goes through', async (tt) => {
  const key = signingKeyPair()
  const w = await signingWorld(tt, key)
  const url = `/prekeys/${w.alice.registrationId}/`
  const header = signatureHeader(key.privateKey, 1, 'GET', `${url}?page=1`)
  await refused(tt, w, 'signed with ?page=1, sent without a query', { method: 'GET', url }, header)
  await refused(tt, w, 'signed with ?page=1, sent with ?page=2', { method: 'GET', url: `${url}?page=2` }, header)
  const res = await send(w.api, w.alice.token, { method: 'GET', url: `${url}?page=1` }, header)
  tt.equal(res.status, 200)
  tt.same(res.body, { count: 10, pqCount: 0 })
  tt.equal(await storedCounter(w.app, w.alice.id), 1)
})

t.test('the counter is per device: two devices with their own keys each start at 1', async (tt) => {
  const { app, api } = await build(tt)
  const people = []
  for (const registrationId of [8001, 8002]) {
    const user = await signUp(api)
    const key = signingKeyPair()
    const res = await api.post(
      '/device/',
      { ...deviceBody(registrationId, `${user.email}.1`), signingKey: key.publicKey },
      { token: user.token },
    )
    tt.equal(res.status, 201)
    people.push({ ...user, key, registrationId })
  }
  for (const p of people) {
    const res = await signedSend(api, p.token, p.key.privateKey, 1, {
      method: 'GET',
      url: `/prekeys/${p.registrationId}/`,
    })
    tt.equal(res.status, 200, `device ${p.registrationId}: counter 1 goes through`)
    tt.same(res.body, { count: 10, pqCount: 0 })
    tt.equal(await storedCounter(app, p.id), 1)
  }
  const [alice, carol] = people
  const res = await signedSend(api, alice.token, carol.key.privateKey, 2, {
    method: 'GET',
    url: `/prekeys/${alice.registrationId}/`,
  })
  tt.same(
    [res.status, res.body.code],
    [401, 'invalid_request_signature'],
    "Carol's key does not sign for Alice's device",
  )
  tt.same([await storedCounter(app, alice.id), await storedCounter(app, carol.id)], [1, 1])
})

t.test('ten different requests signed with one counter, sent at once: exactly one goes through', async (tt) => {
  const key = signingKeyPair()
  const w = await signingWorld(tt, key)
  const reqs = await Promise.all(Array.from({ length: 10 }, () => cases.uploadPreKeys(w)))
  const results = await Promise.all(reqs.map((r) => signedSend(w.api, w.alice.token, key.privateKey, 1, r)))
  const winners = results.flatMap((r, i) => (r.status === 200 ? [i] : []))
  tt.equal(winners.length, 1, 'one request went through')
  tt.same(
    results.filter((r) => r.status !== 200).map((r) => [r.status, r.body.code]),
    Array(9).fill([401, 'invalid_request_signature']),
  )
  const added = await w.app.db.knex('prekeys').where('key_id', '>=', 100).select('key_id', 'public_key')
  const winner = JSON.parse(reqs[winners[0]].body!)[0]
  tt.same(
    added.map((r: { key_id: number; public_key: string }) => ({ keyId: Number(r.key_id), publicKey: r.public_key })),
    [winner],
    "only the winner's key is stored",
  )
  tt.equal(await storedCounter(w.app, w.alice.id), 1)
})

t.test('one signed message replayed ten times at once is queued once', async (tt) => {
  const key = signingKeyPair()
  const w = await signingWorld(tt, key)
  const req = await cases.sendMessage(w)
  const header = signatureHeader(key.privateKey, 1, req.method, req.url, req.body)
  const results = await Promise.all(Array.from({ length: 10 }, () => send(w.api, w.alice.token, req, header)))
  tt.same(results.map((r) => r.status).sort(), [201, ...Array(9).fill(401)])
  tt.same(
    results.filter((r) => r.status === 401).map((r) => r.body.code),
    Array(9).fill('invalid_request_signature'),
  )
  const queued = await w.app.db
    .knex('messages')
    .where({ sender_registration_id: w.alice.registrationId })
    .select('content')
  tt.same(
    queued.map((r: { content: string }) => r.content),
    [JSON.parse(req.body!).message],
  )
})

t.test('a malformed signingKey is 400 invalid_data naming body.signingKey, and nothing is stored', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const good = signingKeyPair().publicKey
  const smallOrder = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64') // the identity point
  const nonCanonical = Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex').toString(
    'base64',
  ) // y = p
  const bad: [string, unknown][] = [
    ['a small-order point', smallOrder],
    ['a non-canonical y', nonCanonical],
    ['32 bytes that are no point', Buffer.alloc(32, 2).toString('base64')],
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['no padding', good.replace(/=$/, '')],
    ['base64url alphabet', Buffer.alloc(32, 0xfb).toString('base64url') + '='],
    ['a last character with stray low bits', good.slice(0, 42) + (good[42] === 'x' ? 'y' : 'x') + '='],
    ['hex', randomBytes(32).toString('hex')],
    ['trailing whitespace', `${good} `],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['an array', [good]],
  ]
  for (const [label, signingKey] of bad) {
    const before = await snapshot(app)
    const res = await api.post(
      '/device/',
      { ...deviceBody(9001, `${user.email}.1`), signingKey },
      { token: user.token },
    )
    tt.equal(res.status, 400, `${label}: 400`)
    tt.equal(res.body.code, 'invalid_data', `${label}: invalid_data`)
    tt.same(
      [...new Set(res.body.errors?.map((e: { field: string }) => e.field))],
      ['body.signingKey'],
      `${label}: names body.signingKey only`,
    )
    tt.same(diff(before, await snapshot(app)), [], `${label}: nothing stored`)
  }
  const res = await api.post(
    '/device/',
    { ...deviceBody(9001, `${user.email}.1`), signingKey: good },
    { token: user.token },
  )
  tt.equal(res.status, 201, 'a well-formed key is accepted')
  tt.same(await app.db.knex('devices').where({ user_id: user.id }).first('signing_key'), { signing_key: good })
  tt.equal(await storedCounter(app, user.id), 0)
})

t.test('a device deleted and registered again with the same key cannot have its old requests replayed', async (tt) => {
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const key = signingKeyPair()
  const register = () =>
    api.post('/device/', { ...deviceBody(9002, `${user.email}.1`), signingKey: key.publicKey }, { token: user.token })
  tt.equal((await register()).status, 201)
  const count: Req = { method: 'GET', url: '/prekeys/9002/' }
  const countHeader = signatureHeader(key.privateKey, 5, count.method, count.url)
  tt.equal((await send(api, user.token, count, countHeader)).status, 200)
  const remove: Req = { method: 'DELETE', url: '/device/' }
  const removeHeader = signatureHeader(key.privateKey, 7, remove.method, remove.url)
  tt.equal((await send(api, user.token, remove, removeHeader)).status, 204)

  tt.equal((await register()).status, 201, 'registered again with the same signing key')
  const before = await snapshot(app)
  for (const [req, header] of [
    [count, countHeader],
    [remove, removeHeader],
  ] as const) {
    const res = await send(api, user.token, req, header)
    tt.equal(res.status, 401, `${req.method} ${req.url} replayed: 401`)
    tt.equal(res.body.code, 'invalid_request_signature')
  }
  tt.same(diff(before, await snapshot(app)), [], 'the new device is still there, nothing changed')
  tt.equal(await storedCounter(app, user.id), 7, 'the key keeps its counter')
  tt.equal(
    (await send(api, user.token, count, signatureHeader(key.privateKey, 8, count.method, count.url))).status,
    200,
    'a fresh counter works',
  )
})
