import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import type { OperationInfo } from '../../lib/spec.js'
import { nowSeconds } from '../mfa-helpers.js'
import { changedRows, diff, snapshot, type Snapshot } from './db-snapshot.js'
import {
  authenticatedOperations,
  cases,
  claimsOf,
  documentedCodes,
  jwt,
  pathNamesDevice,
  requestFor,
  secretsOf,
  setUpWorld,
  tokenKey,
  victimView,
  type Expect,
  type Victim,
  type World,
} from './authz-cases.js'

// For every authenticated operation in openapi.yaml, a victim's valid request is replayed with
// every wrong identity we can think of. Each attempt must be refused with the documented answer,
// change no row and carry none of the victim's data. Afterwards the victims' accounts are as they
// were, and the same request from a victim's twin goes through: the request itself was valid, so
// each refusal was about the identity alone. One world serves all operations (a fresh one each
// would take minutes on PostgreSQL): nothing in it may change while the attacks run. Each attack
// names the check it targets in its label or below: without that check, it would go through.

type Attack = {
  kind: string
  label: string
  url: string
  body?: unknown
  headers: Record<string, string>
  expect: Expect
}

const tally = { attacks: 0, succeeded: 0, rows: 0, operations: 0, assertions: 0, controls: 0 }
// Each attack runs on every operation it applies to: the distinct ones, by kind and label.
const distinct = new Set<string>()
const NOT_AUTHENTICATED: Expect = { status: 401, code: 'not_authenticated' }
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/**
 * Wrong identities made from the owner's tokens: dead, expired, forged, mis-typed, mis-sent. Not
 * among them: a lower-case scheme, several spaces after it, or whitespace around the header value,
 * which RFC 7235 allows and the server accepts with the live token.
 */
function tokenAttacks(
  w: World,
  owner: Victim,
  bound: boolean,
): [kind: string, label: string, headers: Record<string, string>, query?: string][] {
  // The token the owner's request is made with: bound to her device where the operation needs one.
  const token = bound ? owner.deviceToken : owner.token
  const [h, p, s] = token.split('.')
  const claims = claimsOf(token)
  const key = tokenKey(w.config.secretKey)
  const now = nowSeconds()
  const hs256 = { alg: 'HS256', typ: 'JWT' }
  const none = { alg: 'none', typ: 'JWT' }
  const { sid: _sid, ...withoutSid } = claims
  return [
    ['d', 'a logged-out session', bearer(bound ? owner.loggedOutDeviceToken : owner.loggedOutToken)],
    [
      'e',
      'expired (exp in the past, real key)',
      bearer(jwt(hs256, { ...claims, iat: now - 7200, exp: now - 3600 }, key)),
    ],
    ['e', 'not yet valid (nbf in the future, real key)', bearer(jwt(hs256, { ...claims, nbf: now + 3600 }, key))],
    ['f', 'signed with another key', bearer(jwt(hs256, claims, randomBytes(32)))],
    ['f', 'signed with SECRET_KEY itself, not the derived token key', bearer(jwt(hs256, claims, w.config.secretKey))],
    ['f', 'signed with an empty key', bearer(jwt(hs256, claims, ''))],
    ['g', 'alg none, no signature', bearer(jwt(none, claims))],
    ['g', 'alg None, no signature', bearer(jwt({ alg: 'None', typ: 'JWT' }, claims))],
    ['g', 'alg NONE, no signature', bearer(jwt({ alg: 'NONE', typ: 'JWT' }, claims))],
    ['g', 'alg none, the real signature kept', bearer(jwt(none, claims) + s)],
    ['g', 'the real token with its signature cut off', bearer(`${h}.${p}.`)],
    ['g', 'HS512 with the real key', bearer(jwt({ alg: 'HS512', typ: 'JWT' }, claims, key, 'sha512'))],
    ['g', 'HS384 with the real key', bearer(jwt({ alg: 'HS384', typ: 'JWT' }, claims, key, 'sha384'))],
    ['g', 'RS256 header over an HS256 signature', bearer(jwt({ alg: 'RS256', typ: 'JWT' }, claims, key))],
    ['g', 'no alg in the header', bearer(jwt({ typ: 'JWT' }, claims, key))],
    ['h', 'the token of a deleted account', bearer(w.deletedAccountToken)],
    ['i', "a 2FA login's ephemeral token", bearer(owner.ephemeralToken)],
    ['i', 'a password-reset token', bearer(owner.resetToken)],
    ['j', 'Basic scheme', { authorization: `Basic ${token}` }],
    [
      'j',
      'Basic with the email and password',
      { authorization: `Basic ${Buffer.from(`${owner.email}:${owner.password}`).toString('base64')}` },
    ],
    ['j', 'JWT scheme', { authorization: `JWT ${token}` }],
    ['j', 'no scheme', { authorization: token }],
    ['j', 'no space after the scheme', { authorization: `Bearer${token}` }],
    ['j', 'a colon after the scheme', { authorization: `Bearer: ${token}` }],
    ['j', 'a scheme and no token', { authorization: 'Bearer ' }],
    ['j', 'garbage after the token', { authorization: `Bearer ${token} garbage` }],
    ['j', 'a second token after a space', { authorization: `Bearer ${token} ${token}` }],
    ['j', 'two tokens, comma-separated', { authorization: `Bearer ${token}, Bearer ${token}` }],
    ['j', 'whitespace inside the token', { authorization: `Bearer ${h}.${p} .${s}` }],
    ['j', 'a character appended to the signature', { authorization: `Bearer ${token}x` }],
    ['j', 'a character prepended to the token', { authorization: `Bearer x${token}` }],
    ['j', 'a fourth segment', { authorization: `Bearer ${token}.${s}` }],
    ['j', 'only header and payload', { authorization: `Bearer ${h}.${p}` }],
    ['j', 'garbage before the scheme', { authorization: `xBearer ${token}` }],
    ['j', 'in an X-Auth-Token header', { 'x-auth-token': token }],
    ['j', 'in a cookie', { cookie: `token=${token}; auth_token=${token}` }],
    ['j', 'in the query string (access_token)', {}, `?access_token=${token}`],
    ['j', 'in the query string (token)', {}, `?token=${token}`],
    [
      'k',
      "real key, the owner's session, Mallory's id as sub",
      bearer(jwt(hs256, { ...claims, sub: String(w.mallory.id) }, key)),
    ],
    [
      'k',
      "real key, the owner's id, Mallory's session",
      bearer(jwt(hs256, { ...claims, sid: claimsOf(w.mallory.token).sid }, key)),
    ],
    ['k', 'real key, typ mfa with a live session', bearer(jwt(hs256, { ...claims, typ: 'mfa' }, key))],
    ['k', 'real key, no session id', bearer(jwt(hs256, withoutSid, key))],
  ]
}

async function attacksFor(w: World, op: OperationInfo): Promise<Attack[]> {
  const { alice, mallory, nina, aliceOtherDevice: other } = w
  const c = cases[op.operationId]
  const owner = c.ownerWithoutDevice ? nina : alice
  const attacks: Attack[] = []
  const add = async (
    kind: string,
    label: string,
    token: string,
    req: Promise<{ url: string; body?: unknown }>,
    expect: Expect,
  ) => attacks.push({ kind, label, ...(await req), headers: bearer(token), expect })
  const deviceChanged = { status: 403, code: 'device_changed' }
  // (a) another user: the victim's whole request, or her body under Mallory's own path.
  if (pathNamesDevice(op))
    await add('a', "Mallory's token, Alice's request", mallory.token, requestFor(w, op, alice), deviceChanged)
  // The path names something else of Alice's (her provisioning socket's address): looked up in the caller's account.
  if (c.foreignPath)
    await add('a', "Mallory's token, Alice's request", mallory.token, requestFor(w, op, alice), c.foreignPath)
  // Mallory's own request with one thing of the owner's put in: refused, or answered with what is hers alone.
  for (const i of c.intrusions ?? [])
    await add(
      'a',
      `Mallory's token and request, ${i.label}`,
      mallory.token,
      requestFor(w, op, mallory, mallory.registrationId, i),
      i.expect(w),
    )
  if (c.victimBody) {
    const { body } = await requestFor(w, op, owner)
    await add(
      'a',
      "Mallory's token and path, Alice's body",
      mallory.token,
      requestFor(w, op, mallory).then(({ url }) => ({ url, body })),
      c.victimBody(w),
    )
  }
  // (b) a user without a device, on the operations that answer for a missing one.
  if (c.noDevice !== false && documentedCodes(op, 404).includes('no_device')) {
    await add(
      'b',
      "Nina (no device), Alice's request",
      nina.token,
      requestFor(w, op, alice),
      c.noDevice ?? { status: 404, code: 'no_device' },
    )
  }
  // (c) another device's registration ID in the path of Mallory's otherwise valid request.
  if (pathNamesDevice(op)) {
    // Without a body this request is (a)'s.
    if (op.bodyTypes.length)
      await add(
        'c',
        "Mallory's request, Alice's registrationId",
        mallory.token,
        requestFor(w, op, mallory, alice.registrationId),
        deviceChanged,
      )
    await add(
      'c',
      "Mallory's request, a registrationId no device has",
      mallory.token,
      requestFor(w, op, mallory, w.unusedRegistrationId),
      deviceChanged,
    )
  }
  // (l) another device of Alice's own account, with a token bound to it: it acts for that device only.
  if (owner === alice) {
    // The bound token names the victim device in the path (the check: a bound token's path must be its device's).
    if (pathNamesDevice(op))
      await add('l', "Alice's other device (bound token), Alice's request", other.token, requestFor(w, op, alice), {
        status: 403,
        code: 'device_changed',
      })
    // Its own path with the victim device's body: signatures, digest and message ids are the path device's.
    if (pathNamesDevice(op) && c.victimBody)
      await add(
        'l',
        "Alice's other device (bound token and path), the victim device's body",
        other.token,
        Promise.all([requestFor(w, op, other), requestFor(w, op, alice)]).then(([mine, hers]) => ({
          url: mine.url,
          body: hers.body,
        })),
        c.victimBody(w),
      )
    // The victim device named otherwise (its deviceId): the password a device needs for any device but its own.
    for (const o of c.otherDevice ?? [])
      await add(
        'l',
        `Alice's other device (bound token), ${o.label}`,
        other.token,
        requestFor(w, op, alice).then(({ url }) => ({ url, body: o.body })),
        o.expect,
      )
  }
  // (d)-(k) the owner's own request with something that is not a live auth token of hers.
  for (const [kind, label, headers, query = ''] of tokenAttacks(w, owner, c.bound === true)) {
    const req = await requestFor(w, op, owner)
    attacks.push({ kind, label, url: req.url + query, body: req.body, headers, expect: NOT_AUTHENTICATED })
  }
  // (m) a token bound to a device of the owner's account that was removed since: its session ended with the device.
  await add('m', "a removed device's token", owner.removedDeviceToken, requestFor(w, op, owner), NOT_AUTHENTICATED)
  return attacks
}

// Nothing but the attacks runs between two snapshots, so each one's "after" is the next one's "before".
type Run = { w: World; secrets: string[]; last: Snapshot }

async function run(tt: Test, r: Run, op: OperationInfo, attack: Attack) {
  const name = `${op.operationId} (${attack.kind}) ${attack.label}`
  const before = r.last
  const res = await r.w.api.request(op.method, attack.url, attack.body, { headers: attack.headers })
  const after = await snapshot(r.w.app)
  r.last = after
  const rows = changedRows(before, after)
  const leaked = r.secrets.filter((secret) => res.text.includes(secret))
  const { status, code, body } = attack.expect
  const refused =
    res.status === status &&
    (code === undefined || res.body?.code === code) &&
    (body === undefined || JSON.stringify(res.body) === JSON.stringify(body))
  tally.attacks++
  distinct.add(`(${attack.kind}) ${attack.label}`)
  tally.rows += rows
  if (!refused || rows > 0 || leaked.length > 0) {
    tally.succeeded++
    tt.comment(
      `ATTACK SUCCEEDED: ${name}: ${res.status} ${res.text.slice(0, 300)}; ` +
        `rows changed: ${diff(before, after).join(', ') || 'none'}`,
    )
  }
  tt.equal(res.status, status, `${name}: status`)
  if (code !== undefined) {
    tt.equal(res.body?.code, code, `${name}: code`)
    tt.ok(documentedCodes(op, status).includes(code), `${name}: ${status} ${code} is what the spec documents`)
  }
  if (body !== undefined) tt.same(res.body, body, `${name}: body`)
  tt.same(diff(before, after), [], `${name}: no row changed`)
  tt.same(leaked, [], `${name}: none of the victims' data in the answer`)
}

const authenticated = authenticatedOperations()

await t.test('the matrix has a request for exactly the authenticated operations', async (tt) => {
  tt.ok(authenticated.length > 0)
  tt.same(Object.keys(cases).sort(), authenticated.map((op) => op.operationId).sort())
  for (const op of authenticated) {
    const c = cases[op.operationId]
    if (!c) continue
    tt.equal(Boolean(c.body), op.bodyTypes.length > 0, `${op.operationId}: a body exactly when the spec takes one`)
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).filter((p) => p !== 'registrationId')
    tt.same(Object.keys(c.params ?? {}).sort(), params.sort(), `${op.operationId}: every path parameter has a value`)
  }
})

await t.test('authorization matrix', async (tt) => {
  const w = await setUpWorld(tt)
  const { alice, nina } = w
  const views = { alice: await victimView(w, alice), nina: await victimView(w, nina) }

  await tt.test('the world: victims as set up, and the hand-made tokens are sound', async (ttt) => {
    ttt.same(
      views.alice.messages,
      alice.messageBodies.map((b, i) => [
        alice.messageIds[i],
        JSON.stringify({ type: 3, body: b, registrationId: alice.registrationId }),
      ]),
    )
    ttt.same(views.alice.preKeys, { count: 10, pqCount: 0 })
    ttt.equal(views.alice.keys, 'keys_match')
    for (const v of [views.alice, views.nina]) {
      ttt.equal(v.login, 'app', 'the password logs in, to the second factor')
      ttt.same(v.methods, [{ name: 'app', is_primary: true }])
    }
    // Control for the forged tokens: the same encoder with the real key and live claims is accepted.
    tally.controls++
    const control = await w.api.get('/auth/users/me/', {
      token: jwt({ alg: 'HS256', typ: 'JWT' }, claimsOf(alice.token), tokenKey(w.config.secretKey)),
    })
    ttt.same([control.status, control.body.id], [200, alice.id])
  })

  const r: Run = { w, secrets: [...secretsOf(alice), ...secretsOf(nina)], last: await snapshot(w.app) }
  for (const op of authenticated) {
    if (!cases[op.operationId]) continue
    const c = cases[op.operationId]
    await tt.test(`attacks on ${op.method} ${op.path} (${op.operationId})`, async (ttt) => {
      const undo = c.prepare && (await c.prepare(w, c.ownerWithoutDevice ? nina : alice))
      await w.forgive()
      r.last = await snapshot(w.app)
      const attacks = await attacksFor(w, op)
      // Each wrong password counts toward its account's lockout: below the threshold, every one is judged.
      const passwordTries = attacks.filter((a) => a.expect.code === 'invalid_password').length
      ttt.ok(
        passwordTries < w.config.lockoutThreshold,
        `${op.operationId}: ${passwordTries} password tries, below LOCKOUT_THRESHOLD (${w.config.lockoutThreshold})`,
      )
      for (const attack of attacks) await run(ttt, r, op, attack)
      if (undo) {
        ttt.same(await undo(), [], `${op.operationId}: nothing reached the owner`)
        r.last = await snapshot(w.app)
      }
      tally.operations++
      tally.assertions += ttt.assertTotals.total
    })
  }

  await tt.test("the victims' accounts, 2FA, queues and keys are as they were", async (ttt) => {
    ttt.same(await victimView(w, alice), views.alice)
    ttt.same(await victimView(w, nina), views.nina)
  })

  // (l) on the legacy DELETE /device/: a bound token deletes its own device, which is no refusal, so
  // it runs last against Alice. The check: the bound device, never the account's first or only one.
  await tt.test("Alice's other device's DELETE /device/ removes that device, not the victim's", async (ttt) => {
    const other = w.aliceOtherDevice
    const label = "(l) Alice's other device (bound token), DELETE /device/"
    const before = await snapshot(w.app)
    const rowOf = (table: string, f: (row: Record<string, unknown>) => boolean) =>
      (before[table] as string[]).map((row) => JSON.parse(row)).find(f)
    const own = rowOf('devices', (d) => d.user_id === alice.id && d.registration_id === other.registrationId)
    const res = await w.api.delete('/device/', undefined, { token: other.token })
    const after = await snapshot(w.app)
    // Every row that went is the other device's or hangs on it; nothing came.
    const references = (table: string, row: Record<string, unknown>) =>
      table === 'devices'
        ? row.id === own.id
        : (table === 'messages' ? row.recipient_device_id : row.device_id) === own.id
    const foreign = Object.keys(before).flatMap((table) => {
      const was = new Set(before[table] as string[])
      const is = new Set(after[table] as string[])
      const added = [...is].filter((row) => !was.has(row)).map((row) => `${table}: added ${row}`)
      const removed = [...was]
        .filter((row) => !is.has(row) && !references(table, JSON.parse(row)))
        .map((row) => `${table}: removed ${row}`)
      return [...added, ...removed]
    })
    tally.attacks++
    distinct.add(label)
    tally.rows += foreign.length
    const view = await victimView(w, alice)
    const expected = { ...views.alice, devices: (views.alice.devices as unknown[][]).filter(([id]) => id !== 2) }
    const ownGone = !(after.devices as string[]).some((d) => JSON.parse(d).id === own.id)
    if (res.status !== 204 || foreign.length || !ownGone || JSON.stringify(view) !== JSON.stringify(expected)) {
      tally.succeeded++
      ttt.comment(`ATTACK SUCCEEDED: deleteDevice ${label}: ${res.status} ${res.text.slice(0, 300)}`)
    }
    ttt.equal(res.status, 204, `${label}: its own device is deleted`)
    ttt.ok(ownGone, `${label}: the other device is gone`)
    ttt.same(foreign, [], `${label}: no row but the other device's changed`)
    ttt.same(view, expected, `${label}: the victim device, its queue and keys are as they were`)
    ttt.equal((await w.api.get('/auth/users/me/', { token: other.token })).status, 401, 'its token ended with it')
  })

  await tt.test("each request was valid: a victim's twin gets it through", async (ttt) => {
    for (const op of authenticated) {
      const c = cases[op.operationId]
      if (!c) continue
      const twin = await w.twin(c.ownerWithoutDevice ? nina : alice)
      if (c.prepare) await c.prepare(w, twin)
      const req = await requestFor(w, op, twin)
      tally.controls++
      const token = c.bound ? twin.deviceToken : twin.token
      const res = await w.api.request(op.method, req.url, req.body, { token })
      ttt.equal(res.status, c.ok, `${op.operationId}: ${res.text.slice(0, 200)}`)
      if (c.okBody) ttt.same(res.body, c.okBody(w, twin), `${op.operationId}: the owner's own data alone`)
    }
  })
})

t.comment(
  `security: authz: ${distinct.size} distinct attacks, each on every operation it applies to: ` +
    `${tally.attacks} attack requests over ${tally.operations} operations (${tally.assertions} assertions), ` +
    `${tally.succeeded} succeeded, ${tally.rows} rows changed; ${tally.controls} valid controls`,
)
t.equal(tally.operations, authenticated.length, 'every authenticated operation was attacked')
t.equal(tally.succeeded, 0, 'no attack succeeded')
t.equal(tally.rows, 0, 'no attack changed a row')
