import t from 'tap'
import fc from 'fast-check'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { ValidateFunction } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { operationAt, operations, spec, type OperationInfo } from '../../lib/spec.js'
import { encodeUid, makeAccountToken, makeResetToken } from '../../lib/reset-tokens.js'
import {
  build,
  buildWithMail,
  ciphertext,
  deviceBody,
  kyberPreKey,
  preKeys,
  signedPreKey,
  signUp,
  userWithDevice,
} from '../helper.js'
import { secretOf, totp } from '../mfa-helpers.js'
import { checkAgainstSpec } from '../spec-check.js'
import { declareSource, recordSecret, recordSecrets } from '../log-capture.js'
import { changedRows, diff, snapshot, type Snapshot } from './db-snapshot.js'
import * as H from './fuzz-arbitraries.js'
import { openProvisioning, type ProvisioningSocket } from './provisioning-socket.js'
import { attackClasses, HOSTILE_VALUE, mutated, type BodyCase, type Case } from './fuzz-classes.js'

// Spec-driven fuzzing: for every operation in openapi.yaml, hostile requests built from its own
// schema and from valid fixture bodies mutated in one place, so that they get past the type check
// into deep validation and the handlers. Every answer must arrive, be documented, never be a 5xx,
// carry the error shape when it is a JSON error, be a refusal whenever the input breaks the contract
// (the oracle below), and a refusal must leave every table as it was. A fixed seed and run count
// keep `npm test` deterministic; fast-check shrinks a failure to a minimal request, printed whole.
// The caller's token is bound to her device; the account has a second device, which another
// credential variant acts for, and an unbound token, so the device-scoped paths meet all three.

// About 7,300 requests, and after each accepted one the fixtures put back through the API: on a busy
// 2-core machine with PostgreSQL that takes longer than the suite's default 120 s per file.
t.setTimeout(480_000)

const SEED = 20_260_611
const RUNS = { body: 250, bodyless: 80 }
const TIMEOUT_MS = 5000
const RESET_TOKEN = 'RESET-TOKEN-PLACEHOLDER' // replaced by the live reset token when sent

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default
const ajv = new Ajv2020({ strict: false, allErrors: false })
addFormats(ajv)
ajv.addSchema(spec, 'openapi')
const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')
const bodySchema = (op: OperationInfo) =>
  spec.paths[op.path][op.method.toLowerCase()].requestBody.content[op.bodyTypes[0]].schema
const validators = new Map<string, ValidateFunction>()
const validatorFor = (op: OperationInfo) => {
  const method = op.method.toLowerCase()
  const ref = `openapi#/paths/${esc(op.path)}/${method}/requestBody/content/${esc(op.bodyTypes[0])}/schema`
  if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }))
  return validators.get(ref)!
}
const errorSchema = ajv.compile({ $ref: 'openapi#/components/schemas/Error' })
// The device lists a refused multi-device send carries beside code and message (409, 410); whether an
// answer may carry them is the contract check's to say.
const ERROR_DETAILS = ['missingDevices', 'extraDevices', 'staleDevices']
const errorShape = (body: unknown) => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return errorSchema(body)
  return errorSchema(Object.fromEntries(Object.entries(body).filter(([k]) => !ERROR_DETAILS.includes(k))))
}

type Sent = {
  method: string
  url: string
  headers: Record<string, string | string[]>
  payload?: string | Buffer
  text?: string
}

const clip = (s: string, n = 240) =>
  s.length > n ? `${JSON.stringify(s.slice(0, n))}… (${s.length} chars)` : JSON.stringify(s)
const describe = (s: Sent) =>
  `${s.method} ${clip(s.url, 160)} headers ${clip(JSON.stringify(s.headers), 400)} ` +
  `body ${s.payload === undefined ? 'none' : clip(String(s.text ?? s.payload))}` +
  `${Buffer.isBuffer(s.payload) ? ' (sent re-encoded)' : ''}`
const report = (problems: string[], sent: Sent, res: { statusCode: number; body: string }) =>
  `${problems.map((p) => (p.length > 600 ? `${p.slice(0, 600)}…` : p)).join('; ')}\n` +
  `    answer ${res.statusCode} ${clip(res.body, 300)}\n    request ${describe(sent)}`

/**
 * Sends one request and lists what is wrong with the answer: late, undocumented, a 5xx, or an error
 * not in the error shape. The secrets answered are recorded for the log audit (those sent are the
 * live credentials and the fixture bodies, recorded as they are made: a hostile value is no secret).
 */
async function answer(app: FastifyInstance, sent: Sent) {
  let timer: NodeJS.Timeout | undefined
  const res = await Promise.race([
    app.inject({ method: sent.method as 'GET', url: sent.url, headers: sent.headers, payload: sent.payload }),
    new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new Error(`HANG: no answer within ${TIMEOUT_MS} ms to ${describe(sent)}`)),
          TIMEOUT_MS,
        )),
    ),
  ]).finally(() => clearTimeout(timer))
  const problems: string[] = []
  const contentType = String(res.headers['content-type'] ?? '')
  let body: unknown = res.body === '' ? undefined : res.body
  if (contentType.startsWith('application/json')) {
    try {
      body = JSON.parse(res.body)
    } catch {
      problems.push('the JSON answer does not parse')
    }
  }
  // The URL as the server saw it (dot segments resolved); percent signs the check cannot decode are escaped for it.
  const seen = res.raw.req.url ?? sent.url
  const checkUrl = (() => {
    try {
      decodeURI(seen)
      return seen
    } catch {
      return seen.replace(/%/g, '%25')
    }
  })() // prettier-ignore
  recordSecrets(body, true, 'fuzz')
  problems.push(
    ...checkAgainstSpec(sent.method, checkUrl, { status: res.statusCode, contentType, body, headers: res.headers }),
  )
  if (res.statusCode >= 500) problems.push(`5xx: ${res.statusCode}`)
  if (res.statusCode >= 400 && contentType.startsWith('application/json') && !errorShape(body))
    problems.push('the error is not {code, message, errors?} (with the device lists of a refused send)')
  return { res, problems }
}

/** The schema of an operation's path parameter, its $refs followed. */
function paramSchema(op: OperationInfo, name: string): Record<string, unknown> {
  const deref = (node: any): any => {
    let n = node
    while (n?.$ref)
      n = n.$ref
        .slice(2)
        .split('/')
        .reduce((o: any, k: string) => o[k], spec)
    return n
  }
  const item = spec.paths[op.path]
  const all = [...(item.parameters ?? []), ...(item[op.method.toLowerCase()].parameters ?? [])].map(deref)
  return deref(all.find((p: { name: string; in: string }) => p.name === name && p.in === 'path')?.schema) ?? {}
}
/** The HTML pages an emailed link opens: a hostile link shows the invalid-link page (200 or 400). */
const LINK_PAGES = ['resetPasswordPage', 'activationPage']
const bodyRequired = (op: OperationInfo) => spec.paths[op.path][op.method.toLowerCase()].requestBody?.required === true

t.test('spec-driven fuzzing of every operation', async (tt) => {
  declareSource('fuzz')
  const { app, api, config } = await buildWithMail(tt)
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 }) // for the provisioning sockets

  // The caller: a device and an active app 2FA method, so 2FA operations reach their code checks.
  const alice = await userWithDevice(api)
  const activated = await api.post('/auth/app/activate/', undefined, { token: alice.token })
  const confirmed = await api.post(
    '/auth/app/activate/confirm/',
    { code: await totp(secretOf(activated.body.qr_link)) },
    { token: alice.token },
  )
  tt.equal(confirmed.status, 200, 'alice has the app method')
  const bob = await signUp(api) // no device: createDevice gets past device_exists to the signatures
  const dora = await signUp(api) // the reset link's owner
  // Her activation link: valid, for an account that is active (EMAIL_VERIFICATION is off), so it
  // reaches already_active and the already-active page; nothing a request does changes what it signs.
  const activation = makeAccountToken(config.secretKey, 'activation', (await app.db.users.findById(dora.id))!)
  const bobDevice = deviceBody(4242, `${bob.email}.1`, 2)
  const identity = alice.device.identityKey
  // Alice's second device, with its own identity key: sendMessages and removeDevice act for devices.
  const aliceOther = deviceBody(alice.registrationId + 100, `${alice.email}.2`, 2)
  tt.equal((await api.post('/v2/devices/', aliceOther, { token: alice.token })).status, 201, 'alice has two devices')
  // Carol: two devices that no fuzzed request can touch, the recipient of sendMessages and getDeviceKeys.
  const carol = await userWithDevice(api)
  const carolOther = deviceBody(carol.registrationId + 100, `${carol.email}.2`, 10)
  tt.equal((await api.post('/v2/devices/', carolOther, { token: carol.token })).status, 201, 'carol has two devices')
  const live = {
    alice: '', // bound to Alice's device (her registrationId); set by repair()
    aliceOther: '', // bound to her second device
    aliceUnbound: alice.token,
    bob: bob.token,
    reset: '',
    ephemeral: app.auth.issueEphemeralToken(alice.id),
  }
  /** The deviceIds of Alice's two devices now: a removed one comes back under a new number. */
  const deviceIds = { alice: 1, aliceOther: 2 }
  // Open provisioning sockets of Alice's and Bob's, while sendProvisioningMessage is fuzzed.
  const sockets: { alice?: ProvisioningSocket; bob?: ProvisioningSocket } = {}
  let provisioning = false

  const createUser = { email: 'fuzz-new@example.com', password: 'correct-horse-battery-staple' }
  const deleteMe = { currentPassword: 'not-the-password-1' }
  const setPassword = { current_password: 'not-the-password-1', new_password: 'staple-lantern-orbit-42' }
  const changeEmail = { new_email: 'fuzz-moved@example.com', current_password: 'not-the-password-1' }
  const userUpdate = { email: alice.email }
  const activate = { uid: encodeUid(dora.id), token: activation }
  const templates: Record<string, unknown> = {
    createUser,
    createUserLegacy: createUser,
    deleteMe,
    deleteMeLegacy: deleteMe,
    deleteUser: deleteMe,
    setPassword,
    setPasswordLegacy: setPassword,
    changeEmail,
    changeEmailLegacy: changeEmail,
    updateMe: userUpdate,
    patchMe: userUpdate,
    updateMeLegacy: userUpdate,
    updateUser: userUpdate,
    patchUser: userUpdate,
    activateAccount: activate,
    activateAccountLegacy: activate,
    // 400 activation_disabled: the world runs with EMAIL_VERIFICATION off.
    resendActivation: { email: dora.email },
    activationPageSubmit: { confirm: '1' },
    login: { email: alice.email, password: 'not-the-password-1', deviceId: 1 },
    loginCode: { ephemeral_token: live.ephemeral, code: '123456', deviceId: 1 },
    resetPassword: { email: dora.email },
    resetPasswordConfirm: { uid: encodeUid(dora.id), token: RESET_TOKEN, new_password: 'staple-lantern-orbit-42' },
    resetPasswordPageSubmit: { new_password: 'staple-lantern-orbit-42', re_new_password: 'staple-lantern-orbit-42' },
    confirmMfa: { code: '123456' },
    deactivateMfa: { code: 123456 },
    regenerateBackupCodes: { code: 'abcdefghjk' },
    requestMfaCode: { method: 'email' },
    changePrimaryMfaMethod: { method: 'app', code: '123456' },
    createDevice: {
      ...bobDevice,
      pqPreKeys: [kyberPreKey(1, bobDevice.identityKey)],
      pqLastResortPreKey: kyberPreKey(2, bobDevice.identityKey),
    },
    addDevice: (() => {
      const d = deviceBody(alice.registrationId + 200, `${alice.email}.3`, 2)
      return {
        ...d,
        name: 'Laptop',
        pqPreKeys: [kyberPreKey(1, d.identityKey)],
        pqLastResortPreKey: kyberPreKey(2, d.identityKey),
      }
    })(),
    // Not needed by a device removing itself (the bound token on its own deviceId), needed otherwise.
    removeDevice: { currentPassword: alice.password },
    sendMessages: {
      messages: [
        { deviceId: 1, registrationId: carol.registrationId, content: ciphertext(carol.registrationId) },
        { deviceId: 2, registrationId: carolOther.registrationId, content: 'MwohBQ-opaque-to-the-server' },
      ],
      timestamp: 1_764_928_800_000,
    },
    sendProvisioningMessage: { body: Buffer.from('sealed linking message').toString('base64') },
    uploadPreKeys: preKeys(500, 2),
    replaceSignedPreKey: signedPreKey(7, identity),
    uploadPqPreKeys: { pqPreKeys: [kyberPreKey(900, identity)], pqLastResortPreKey: kyberPreKey(901, identity) },
    checkKeys: { digest: Buffer.alloc(32).toString('base64') },
    sendMessage: { recipient: alice.email, message: ciphertext(alice.registrationId) },
    deleteMessages: [1, 2],
  }
  // The caller's own value of each path parameter and a well-formed other one; `operationId.name` first.
  const params: Record<string, () => [ok: string, alt: string]> = {
    registrationId: () => [String(alice.registrationId), String(alice.registrationId + 1)],
    method: () => ['app', 'email'],
    recipientEmail: () => [alice.email, bob.email],
    uid: () => [encodeUid(dora.id), encodeUid(alice.id)],
    token: () => [live.reset, `${live.reset.split('-')[0]}-${'0'.repeat(40)}`],
    // Dora's activation link (the page says the account is already active) and a forged one.
    'activationPage.token': () => [activation, `${activation.split('-')[0]}-${'0'.repeat(40)}`],
    'activationPageSubmit.token': () => [activation, `${activation.split('-')[0]}-${'0'.repeat(40)}`],
    // Alice's own id, and another account's (answered as a missing one).
    id: () => [String(alice.id), String(bob.id)],
    // The device the bound token is for (it removes itself without the password), and the other one.
    'removeDevice.deviceId': () => [String(deviceIds.alice), String(deviceIds.aliceOther)],
    // Carol's devices, all of them or her second; Bob has none.
    'getDeviceKeys.recipientEmail': () => [carol.email, bob.email],
    'getDeviceKeys.deviceId': () => ['*', '2'],
    // Carol's devices; or Alice's own account, whose other devices the template does not name.
    'sendMessages.recipientEmail': () => [carol.email, alice.email],
    // Alice's open provisioning socket; Bob's, another account's.
    address: () => [sockets.alice?.address ?? 'closed', sockets.bob?.address ?? 'closed'],
  }
  const paramOf = (op: OperationInfo, name: string) => params[`${op.operationId}.${name}`] ?? params[name]

  const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid as string
  const session = (token: string) => (token ? app.db.sessions.active(sidOf(token)) : undefined)
  /**
   * Puts the fixtures back after an accepted request: Alice's email, sessions, Alice's two devices and
   * the tokens bound to them, Bob without a device, the provisioning sockets and the reset link.
   */
  async function repair() {
    // An accepted email change (the fixtures send a wrong password, but a mutation is a mutation) is undone.
    const aliceRow = (await app.db.users.findById(alice.id))!
    if (aliceRow.email !== alice.email || aliceRow.pending_email !== null) {
      tt.comment(`alice's email changed to ${aliceRow.email} (pending ${aliceRow.pending_email}); changed back`)
      await app.db.knex('users').where({ id: alice.id }).update({ email: alice.email, pending_email: null })
    }
    if (!(await session(live.aliceUnbound))) live.aliceUnbound = await app.auth.issueToken(alice.id)
    if (!(await session(live.bob))) live.bob = await app.auth.issueToken(bob.id)
    const fixtures = { alice: alice.device, aliceOther } as const
    const registrationIds = Object.values(fixtures).map((d) => d.registrationId)
    for (const d of await app.db.devices.listByUser(alice.id))
      if (!registrationIds.includes(d.registration_id)) await app.db.devices.delete(d.id) // added by the fuzzer
    for (const [name, body] of Object.entries(fixtures) as [keyof typeof fixtures, typeof aliceOther][]) {
      let device = (await app.db.devices.listByUser(alice.id)).find((d) => d.registration_id === body.registrationId)
      if (!device) {
        const res = await api.post('/v2/devices/', body, { token: live.aliceUnbound })
        tt.equal(res.status, 201, `${name}'s device registered again`)
        device = (await app.db.devices.listByUser(alice.id)).find((d) => d.registration_id === body.registrationId)!
      }
      deviceIds[name] = device.device_id
      if ((await session(live[name]))?.boundDeviceId !== device.id)
        live[name] = await app.auth.issueToken(alice.id, device.id)
    }
    for (const d of await app.db.devices.listByUser(bob.id)) await app.db.devices.delete(d.id)
    if (provisioning) {
      if (!(await sockets.alice?.registered())) sockets.alice = await openProvisioning(tt, app, baseUrl, live.alice)
      if (!(await sockets.bob?.registered())) sockets.bob = await openProvisioning(tt, app, baseUrl, live.bob)
    }
    live.reset = makeResetToken(config.secretKey, (await app.db.users.findById(dora.id))!)
    for (const credential of Object.values(live)) recordSecret(credential, 'fuzz')
  }
  await repair()
  // The secrets in the valid bodies every mutation starts from (hostile values are no one's secrets).
  recordSecrets(JSON.parse(JSON.stringify(templates).replaceAll(RESET_TOKEN, live.reset)), false, 'fuzz')

  function authHeader(v: H.AuthVariant, opId: string): string | string[] | undefined {
    const tok = opId === 'createDevice' ? live.bob : live.alice
    const unbound = opId === 'createDevice' ? live.bob : live.aliceUnbound
    const [head, payload, sig] = tok.split('.')
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: String(alice.id + bob.id) }),
    ).toString('base64url')
    const table: Record<H.AuthVariant, string | string[] | undefined> = {
      none: undefined,
      bearer: `Bearer ${tok}`,
      token: `Token ${tok}`,
      lowercase: `bearer ${tok}`,
      upperBearer: `BEARER ${tok}`,
      manySpaces: `Bearer    ${tok}`,
      trailingSpace: `Bearer ${tok}  `,
      dupValidFirst: [`Bearer ${tok}`, 'Basic eDp5'],
      otherUser: `Bearer ${opId === 'createDevice' ? live.alice : live.bob}`,
      unbound: `Bearer ${unbound}`,
      otherDevice: `Bearer ${live.aliceOther}`,
      empty: '',
      schemeOnly: 'Bearer',
      schemeSpace: 'Bearer ',
      basic: `Basic ${Buffer.from(`${alice.email}:x`).toString('base64')}`,
      truncated: `Bearer ${tok.slice(0, -2)}`,
      appended: `Bearer ${tok}x`,
      tampered: `Bearer ${head}.${forged}.${sig}`,
      algNone: `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`,
      ephemeral: `Bearer ${live.ephemeral}`,
      noScheme: tok,
      twoTokens: `Bearer ${tok} ${tok}`,
      tab: `Bearer\t${tok}`,
      nbsp: `Bearer\u00a0${tok}`,
      huge: `Bearer ${'A'.repeat(100_000)}`,
      dupBogusFirst: ['Basic eDp5', `Bearer ${tok}`],
      negotiate: `Negotiate ${tok}`,
      nullToken: 'Bearer null',
      unicode: `Bearer ${tok}\u202e`,
    }
    return table[v]
  }

  function bodyText(op: OperationInfo, b: BodyCase): string {
    const form = op.bodyTypes[0] === 'application/x-www-form-urlencoded'
    const v = b.value
    const text =
      form && v && typeof v === 'object' && !(v instanceof H.Raw) && !Array.isArray(v)
        ? new URLSearchParams(
            Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : H.serialize(x)]),
          ).toString()
        : H.serialize(v)
    return H.applySyntax(text, b.syntax).replaceAll(RESET_TOKEN, live.reset)
  }

  function render(op: OperationInfo, c: Case): Sent {
    const segment = (name: string, s = c.params[name]) =>
      s.kind === 'hostile' ? s.raw : encodeURIComponent(paramOf(op, name)()[s.kind === 'ok' ? 0 : 1])
    const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => segment(name)) + c.query
    const headers: Record<string, string | string[]> = { ...c.headers }
    const authorization = authHeader(c.auth, op.operationId)
    if (authorization !== undefined) headers.authorization = authorization
    if (!c.body) return { method: op.method, url, headers, text: '' }
    const text = bodyText(op, c.body)
    if (c.body.contentType !== undefined) headers['content-type'] = c.body.contentType
    if (c.body.contentLength !== undefined) headers['content-length'] = c.body.contentLength
    return { method: op.method, url, headers, payload: H.encode(text, c.body.encoding), text }
  }

  /** Why the server must refuse this request, or undefined when accepting it would be within the contract. */
  function mustReject(op: OperationInfo, c: Case, sent: Sent): string | undefined {
    if (op.authenticated && !H.authVariants[c.auth]) return `credentials "${c.auth}" are not valid`
    // A dot segment as a parameter ('.', '%2e', '..') is resolved before routing: where that leaves the
    // path of another operation without parameters (GET /auth/users/./ is listUsers), it judges the request.
    const path = sent.url.split('?')[0]
    const resolved = new URL(path, 'http://fuzz.invalid').pathname
    const other = resolved === path ? undefined : operationAt(op.method, resolved)
    if (other && other !== op && !other.path.includes('{')) return mustReject(other, { ...c, params: {} }, sent)
    for (const [name, s] of Object.entries(c.params)) {
      // The pages an emailed link opens answer a bad link with the invalid-link page.
      if (s.kind !== 'hostile' || LINK_PAGES.includes(op.operationId)) continue
      let decoded: string
      try {
        decoded = decodeURIComponent(s.raw)
      } catch {
        return `path parameter ${name} is not valid percent-encoding`
      }
      const [ok, alt] = paramOf(op, name)()
      const fine =
        paramSchema(op, name).type === 'integer'
          ? decoded.trim() !== '' && [ok, alt].map(Number).includes(Number(decoded))
          : [ok, alt].includes(name === 'recipientEmail' ? decoded.toLowerCase() : decoded)
      if (!fine) return `path parameter ${name} is not one of the caller's`
    }
    if (!op.bodyTypes.length || !c.body) return undefined
    if (c.body.contentLength !== undefined) return 'Content-Length is past the body limit'
    const raw = typeof sent.payload === 'string' ? sent.payload : (sent.payload?.toString('utf8') ?? '')
    if (raw === '') return bodyRequired(op) ? 'the body is missing' : undefined
    const first = Array.isArray(c.body.contentType) ? c.body.contentType[0] : c.body.contentType
    if (!op.bodyTypes.includes((first ?? '').split(';')[0].trim().toLowerCase()))
      return `Content-Type ${JSON.stringify(c.body.contentType)}`
    let value: unknown
    if (op.bodyTypes[0] === 'application/x-www-form-urlencoded') {
      value = Object.fromEntries(new URLSearchParams(raw))
      const v = value as Record<string, string>
      if (validatorFor(op)(value) && v.new_password !== v.re_new_password) return 'the passwords differ'
    } else {
      try {
        value = JSON.parse(raw.replace(/^\ufeff/, ''), (k, v) => {
          if (k === '__proto__' || (k === 'constructor' && v && typeof v === 'object' && 'prototype' in v))
            throw new Error('prototype key')
          return v
        })
      } catch {
        return 'the body is not JSON'
      }
      if (value === null) return 'the body is null'
    }
    if (!validatorFor(op)(value)) return `the body breaks the schema (${ajv.errorsText(validatorFor(op).errors)})`
    return undefined
  }

  const totals = { tried: 0, fivexx: 0, rows: 0, accepted: 0, controls: 0, mustRefuse: 0 }
  const invalidControls: string[] = [] // controls the oracle says must be refused: then they are no controls
  const classes = new Set<string>() // every attack class tried, over all operations
  const serverErrors: string[] = [] // also those met while shrinking another failure
  let snap: Snapshot = await snapshot(app)

  async function probe(op: OperationInfo, c: Case): Promise<void> {
    const sent = render(op, c)
    const reason = mustReject(op, c, sent)
    const before = snap
    totals.tried++
    const altered = attackClasses(c, { authenticated: op.authenticated, bodyType: op.bodyTypes[0] })
    for (const k of altered) classes.add(k)
    if (altered.length === 0) totals.controls++
    if (altered.length === 0 && reason) invalidControls.push(`${op.operationId}: ${reason}`)
    if (reason) totals.mustRefuse++
    const { res, problems } = await answer(app, sent)
    if (res.statusCode >= 500) {
      totals.fivexx++
      if (serverErrors.length < 5) serverErrors.push(`${res.statusCode} ${clip(res.body, 200)} for ${describe(sent)}`)
    }
    if (res.statusCode < 300) {
      totals.accepted++
      if (reason) problems.push(`accepted with ${res.statusCode} although ${reason}`)
      await repair()
      snap = await snapshot(app)
    } else {
      snap = await snapshot(app)
      const rows = changedRows(before, snap)
      if (rows) {
        totals.rows += rows
        problems.push(`the refusal changed the database: ${diff(before, snap).join(', ')}`)
      }
    }
    if (problems.length) throw new Error(report(problems, sent, res))
  }

  const caseFor = (op: OperationInfo): fc.Arbitrary<Case> => {
    const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
    const takesBody = op.bodyTypes.length > 0
    const base = templates[op.operationId]
    const valid = takesBody && H.fromSchema(bodySchema(op), spec)
    const start =
      valid &&
      (base === undefined
        ? valid
        : fc.oneof({ weight: 4, arbitrary: fc.constant(base) }, { weight: 1, arbitrary: valid }))
    // The same draws as the bare values, labelled with the mutation that made them.
    const made = start
      ? start.chain((v) => H.mutation(v).map((m) => mutated(v, m)))
      : H.hostileValue.map((v) => ({ value: v, mutation: HOSTILE_VALUE }))
    const body: fc.Arbitrary<BodyCase> = fc
      .record({
        made,
        syntax: H.syntax,
        encoding: H.encoding,
        contentType: H.contentType(op.bodyTypes[0] ?? 'application/json'),
        contentLength: H.contentLengthLie,
      })
      .map(({ made: { value, mutation }, ...rest }) => ({ value, mutation, ...rest }))
    return fc.record({
      auth: H.auth(op.authenticated),
      params: fc.record(Object.fromEntries(names.map((n) => [n, H.segment]))),
      query: H.query,
      headers: H.extraHeaders,
      body: takesBody ? body : fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: body }),
    })
  }

  const started = Date.now()
  for (const op of operations.values()) {
    const runs = op.bodyTypes.length ? RUNS.body : RUNS.bodyless
    const controlsBefore = totals.controls
    const acceptedBefore = totals.accepted
    // An address lives 10 minutes at most: the sockets are open while their operation is fuzzed only.
    provisioning = op.operationId === 'sendProvisioningMessage'
    if (provisioning) {
      await repair()
      snap = await snapshot(app)
    }
    try {
      await fc.assert(
        fc.asyncProperty(caseFor(op), (c) => probe(op, c)),
        {
          seed: SEED,
          numRuns: runs,
          reporter: (out) => {
            if (!out.failed) return
            const error = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance)
            throw new Error(
              `${error}\n    (shrunk ${out.numShrinks} times; ` +
                `replay: seed ${out.seed}, path "${out.counterexamplePath}")`,
            )
          },
        },
      )
      tt.pass(
        `${op.operationId}: ${runs} requests, ${runs - (totals.controls - controlsBefore)} of them hostile, ` +
          `${totals.accepted - acceptedBefore} accepted`,
      )
    } catch (err) {
      tt.fail(`${op.operationId} (${op.method} ${op.path}): ${(err as Error).message}`)
    }
    if (provisioning) {
      for (const s of [sockets.alice, sockets.bob]) if (s && (await s.registered())) await s.close()
      provisioning = false
      snap = await snapshot(app)
    }
  }
  tt.comment(
    `fuzz: ${totals.accepted} of ${totals.tried} requests accepted within the contract; ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  tt.comment(
    `security: fuzz: ${totals.tried} requests over ${operations.size} operations: ` +
      `${totals.tried - totals.controls} hostile, in ${classes.size} distinct attack classes ` +
      `(${totals.mustRefuse} of them the contract says must be refused), ` +
      `and ${totals.controls} valid controls with nothing altered; ` +
      `${totals.fivexx} 5xx, ${totals.rows} rows changed by rejected requests`,
  )
  tt.same(invalidControls.slice(0, 5), [], 'every request counted as a valid control is valid by the contract')
  tt.equal(totals.fivexx, 0, 'no request was answered with a 5xx', { found: serverErrors })
  tt.equal(totals.rows, 0, 'no rejected request changed a row')
})

// ---- Regressions: the minimal requests of the bugs this fuzzer found, each now fixed ------------
const REGRESSIONS: { name: string; method: string; url: string; headers?: Record<string, string>; payload?: string }[] =
  [
    {
      name: 'a malformed percent-escape in a path parameter answers 400 in the error shape',
      method: 'GET',
      url: '/messages/%/',
    },
    { name: 'the same for an overlong UTF-8 escape', method: 'POST', url: '/auth/%c0%af/activate/' },
    {
      name: 'a path parameter past maxParamLength (16384) answers 400, not an undocumented 414',
      method: 'GET',
      url: `/messages/${'1'.repeat(16_385)}/`,
    },
    {
      name: 'DELETE /device/ with a text/plain body answers a documented 415',
      method: 'DELETE',
      url: '/device/',
      headers: { 'content-type': 'text/plain' },
      payload: '0',
    },
    {
      name: 'DELETE /device/ with a body past the limit answers a documented 413',
      method: 'DELETE',
      url: '/device/',
      headers: { 'content-type': 'application/json' },
      payload: `"${'A'.repeat(1_100_000)}"`,
    },
    {
      name: 'the reset page answers malformed JSON with its 400 page, as documented',
      method: 'POST',
      url: '/auth/password/reset/confirm/MQ/x/',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    },
    {
      name: 'the reset page answers a broken escape in its link with its 400 page',
      method: 'POST',
      url: '/auth/password/reset/confirm/%/x/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'new_password=a',
    },
  ]

t.test('the bugs the fuzzer found stay fixed', async (tt) => {
  const { app, api } = await build(tt)
  const user = await userWithDevice(api)
  for (const bug of REGRESSIONS) {
    const sent: Sent = {
      method: bug.method,
      url: bug.url,
      headers: { authorization: `Bearer ${user.token}`, ...bug.headers },
      payload: bug.payload,
    }
    const { res, problems } = await answer(app, sent)
    tt.same(problems, [], bug.name, problems.length ? { answer: `${res.statusCode} ${clip(res.body, 300)}` } : {})
    tt.ok(res.statusCode >= 400 && res.statusCode < 500, `${bug.name}: a 4xx (${res.statusCode})`)
  }
})
