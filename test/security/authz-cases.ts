import { createHmac, randomBytes } from 'node:crypto'
import { operations, spec, type OperationInfo } from '../../lib/spec.js'
import { keyDigest } from '../../sdk/key-digest.js'
import {
  buildWithMail,
  ciphertext,
  deviceBody,
  kyberPreKey,
  kyberPreKeys,
  preKeys,
  signedPreKey,
  signUp,
  uniqueEmail,
} from '../helper.js'
import { enableApp, fakeClock, mailedCode, totp } from '../mfa-helpers.js'
import { openProvisioning, type ProvisioningSocket } from './provisioning-socket.js'

// The world the authorization matrix runs in, and for each authenticated operation the request its
// owner (Alice; Nina for createDevice, which needs an owner without a device) would validly make,
// so that in an attack the only thing wrong is the identity. Alice's account has two devices: the
// victim device (deviceId 1, her registrationId) and another (deviceId 2, its own identity key)
// whose bound token is an attacker position of its own; a third was removed, and its token kept.

type T = Parameters<typeof buildWithMail>[0]

export type Principal = {
  id: number
  email: string
  password: string
  /** Not bound to a device. */
  token: string
  /** Bound to the account's device 1 (a login with deviceId); '' without a device. */
  deviceToken: string
  hasDevice: boolean
  registrationId: number
  identity: string
  signedPreKey: { keyId: number; publicKey: string; signature: string }
  preKeyPublics: string[]
  messageIds: number[]
  messageBodies: string[]
  appSecret: string
  emailCode: string
}

/** A victim: a principal with app 2FA active, email 2FA pending, and tokens that are not live auth tokens. */
export type Victim = Principal & {
  loggedOutToken: string
  /** A token bound to the victim device, logged out ('' without a device). */
  loggedOutDeviceToken: string
  ephemeralToken: string
  resetToken: string
  /** Bound to a device of the account that was removed since (Alice's device 3, Nina's device 1). */
  removedDeviceToken: string
}

export type World = Awaited<ReturnType<typeof buildWithMail>> & {
  /** Has a device, two messages from Bob in her queue, and another device (2). */
  alice: Victim
  /** Alice's device 2, with its own identity key: its token is bound to it. */
  aliceOtherDevice: Principal
  /** Has no device. */
  nina: Victim
  /** Has a device, a queue and 2FA like Alice's. */
  mallory: Principal
  bob: Principal
  deletedAccountToken: string
  unusedRegistrationId: number
  /** A fresh principal shaped like `like` (device, queue, 2FA), for the proof that a request is valid. */
  twin(like: Victim): Promise<Principal>
  /** Opens a provisioning socket of the principal's account (a real one: the app listens). */
  provisioning(p: Principal): Promise<ProvisioningSocket>
  /** The address of each principal's open provisioning socket, by email. */
  addresses: Map<string, string>
  /**
   * Alice, Nina and Mallory log in with their passwords: a right one clears the per-account count of
   * wrong ones (LOCKOUT_THRESHOLD), so that each operation's refused passwords are judged, not locked out.
   */
  forgive(): Promise<void>
}

export type Expect = { status: number; code?: string; body?: unknown }
type Req = { url: string; body?: unknown }

export type Case = {
  /** Path parameters besides the owner's registrationId. */
  params?: Record<string, (w: World, owner: Principal) => string>
  body?: (w: World, owner: Principal) => unknown
  /** The success status an owner's own token gets for the request: the proof that it is valid. */
  ok: number
  /** The refusal for Mallory's token and own path with the owner's body (password, code, ids, signed keys). */
  victimBody?: (w: World) => Expect
  /** Nina owns the request: a valid one needs an owner without a device. */
  ownerWithoutDevice?: boolean
  /** The owner sends it with her token bound to her device (the operation acts for a device). */
  bound?: boolean
  /**
   * The refusal for Mallory's token on the owner's whole request, where the path names something of
   * the owner's other than a registrationId (those answer 403 `device_changed`).
   */
  foreignPath?: Expect
  /**
   * Nina (no device) with the owner's request: the answer when it is not 404 `no_device`; false where a
   * device of the caller plays no part (the documented `no_device` is that of another operation).
   */
  noDevice?: Expect | false
  /**
   * Alice's other device (its bound token) on an operation that names the victim device other than by
   * registrationId: what it tries and the refusal.
   */
  otherDevice?: { label: string; body?: unknown; expect: Expect }[]
  /**
   * Made before the attacks on the operation, for its owner; the function it gives undoes it after
   * them and answers what the owner received meanwhile (nothing, after refusals).
   */
  prepare?: (w: World, owner: Principal) => Promise<() => Promise<unknown[]>>
  /**
   * Mallory's own request (her token, path and body) with one thing of the owner's put in (her email,
   * an id): what it tries, what it changes and the answer, a refusal or only what is Mallory's own.
   */
  intrusions?: { label: string; params?: Case['params']; body?: (w: World) => unknown; expect: (w: World) => Expect }[]
  /** The body the owner's valid request answers with, where it must hold the owner alone. */
  okBody?: (w: World, owner: Principal) => unknown
}

const code = (status: number, c: string): Expect => ({ status, code: c })
/** Another account's id answers exactly as an id no account has: the same status, code and message. */
const notFound: Expect = { status: 404, code: 'not_found', body: { code: 'not_found', message: 'Not found.' } }
const userOf = (p: Principal) => ({ id: p.id, email: p.email })
const ownId = { id: (_w: World, p: Principal) => String(p.id) }
/** Far above the few dozen accounts made here. */
const MISSING_ID = '2147483647'
const idIntrusions: Case['intrusions'] = [
  {
    label: "an id no account has (the answer Alice's id must give)",
    params: { id: () => MISSING_ID },
    expect: () => notFound,
  },
]
/** Read-only fields: the owner's own email is a valid body; Mallory naming Alice's email or id is refused. */
const userUpdate = (withId: boolean): Case => ({
  ...(withId && { params: ownId, foreignPath: notFound }),
  body: (_w, p) => ({ email: p.email }),
  ok: 200,
  okBody: (_w, p) => userOf(p),
  // The check: each given field must be the caller's own (else Mallory is told she is Alice).
  victimBody: () => code(400, 'invalid_data'),
  intrusions: [
    { label: "Alice's id in the body", body: (w) => ({ id: w.alice.id }), expect: () => code(400, 'invalid_data') },
    ...(withId ? idIntrusions! : []),
  ],
})
/** Alice's password under Mallory's path; Alice's email as Mallory's new one, with Mallory's own password. */
const emailChange: Case = {
  body: (_w, p) => ({ new_email: uniqueEmail('moved'), current_password: p.password }),
  ok: 204,
  victimBody: () => code(400, 'invalid_password'),
  intrusions: [
    // The check: the new email may be no other account's (two accounts would share one login).
    {
      label: "her own password, Alice's email as the new one",
      body: (w) => ({ new_email: w.alice.email, current_password: w.mallory.password }),
      expect: () => code(400, 'email_exists'),
    },
    {
      label: "her own password, Alice's email in upper case as the new one",
      body: (w) => ({ new_email: w.alice.email.toUpperCase(), current_password: w.mallory.password }),
      expect: () => code(400, 'email_exists'),
    },
    {
      label: "her own password, Nina's email as the new one",
      body: (w) => ({ new_email: w.nina.email, current_password: w.mallory.password }),
      expect: () => code(400, 'email_exists'),
    },
  ],
}
const bobAsRecipient = { recipientEmail: (w: World) => w.bob.email }
const email = { method: () => 'email' }
const app = { method: () => 'app' }
const appCode = async (_w: World, p: Principal) => ({ code: await totp(p.appSecret) })
let addedRegistrationId = 6000
/** Opens the owner's provisioning socket for the attacks on its address; closes it after them. */
const provisioningSocket = async (w: World, p: Principal) => {
  const socket = await w.provisioning(p)
  w.addresses.set(p.email, socket.address)
  return async () => {
    const received = socket.received()
    await socket.close()
    w.addresses.delete(p.email)
    return received
  }
}

const deleteAccount: Case = {
  body: (_w, p) => ({ currentPassword: p.password }),
  ok: 204,
  victimBody: () => code(400, 'invalid_password'),
}
const setPassword: Case = {
  body: (_w, p) => ({ current_password: p.password, new_password: `lantern-${randomBytes(6).toString('hex')}` }),
  ok: 204,
  victimBody: () => code(400, 'invalid_password'),
}

export const cases: Record<string, Case> = {
  getMe: { ok: 200, okBody: (_w, p) => userOf(p) },
  getMeLegacy: { ok: 200, okBody: (_w, p) => userOf(p) },
  // The check: the list is the caller alone (there are no staff accounts).
  listUsers: {
    ok: 200,
    okBody: (_w, p) => [userOf(p)],
    intrusions: [{ label: 'the list of users', expect: (w) => ({ status: 200, body: [userOf(w.mallory)] }) }],
  },
  // The check on /auth/users/{id}/: the id must be the caller's; Alice's, even with her password, is as missing.
  getUser: { params: ownId, ok: 200, okBody: (_w, p) => userOf(p), foreignPath: notFound, intrusions: idIntrusions },
  updateMe: userUpdate(false),
  patchMe: userUpdate(false),
  updateMeLegacy: userUpdate(false),
  updateUser: userUpdate(true),
  patchUser: userUpdate(true),
  deleteMe: deleteAccount,
  deleteMeLegacy: deleteAccount,
  deleteUser: { ...deleteAccount, params: ownId, foreignPath: notFound, intrusions: idIntrusions },
  setPassword,
  setPasswordLegacy: setPassword,
  changeEmail: emailChange,
  changeEmailLegacy: emailChange,
  logout: { ok: 204 },
  // Email is pending for Alice (activated, not confirmed), so activating it again is valid.
  activateMfa: { params: email, ok: 200 },
  confirmMfa: {
    params: email,
    body: (_w, p) => ({ code: p.emailCode }),
    ok: 200,
    victimBody: () => code(400, 'invalid_code'),
  },
  deactivateMfa: { params: app, body: appCode, ok: 204, victimBody: () => code(400, 'invalid_code') },
  regenerateBackupCodes: { params: app, body: appCode, ok: 200, victimBody: () => code(400, 'invalid_code') },
  requestMfaCode: { body: () => ({ method: 'email' }), ok: 200 },
  getMfaConfig: { ok: 200 },
  getActiveMfaMethods: { ok: 200 },
  // With app the only active method, naming it again is a valid change (it needs the primary's code).
  changePrimaryMfaMethod: {
    body: async (w, p) => ({ method: 'app', ...(await appCode(w, p)) }),
    ok: 204,
    victimBody: () => code(400, 'invalid_code'),
  },
  createDevice: { body: (_w, p) => deviceBody(p.registrationId, `${p.email}.1`), ok: 201, ownerWithoutDevice: true },
  // Alice has two devices: her unbound token would answer 409 several_devices; a twin has one.
  deleteDevice: { ok: 204 },
  addDevice: {
    body: (_w, p) => ({ ...deviceBody(++addedRegistrationId, `${p.email}.added`), name: 'Laptop' }),
    ok: 201,
  },
  listDevices: { ok: 200 },
  // The victim device (deviceId 1) with the account's password.
  removeDevice: {
    params: { deviceId: () => '1' },
    body: (_w, p) => ({ currentPassword: p.password }),
    ok: 204,
    // Mallory's path names her own device 1: the password must be hers.
    victimBody: () => code(400, 'invalid_password'),
    // The password is checked against the caller's account before its devices are looked at.
    noDevice: code(400, 'invalid_password'),
    otherDevice: [
      { label: 'removing the victim device without the password', expect: code(400, 'invalid_password') },
      {
        label: 'removing the victim device with a wrong password',
        body: { currentPassword: 'not-the-password-1' },
        expect: code(400, 'invalid_password'),
      },
    ],
  },
  getPreKeyCount: { ok: 200 },
  uploadPreKeys: { body: () => preKeys(500, 3), ok: 200 },
  replaceSignedPreKey: {
    body: (_w, p) => signedPreKey(2, p.identity),
    ok: 200,
    victimBody: () => code(400, 'invalid_signature'),
  },
  uploadPqPreKeys: {
    body: (_w, p) => ({
      pqPreKeys: kyberPreKeys(500, 2, p.identity),
      pqLastResortPreKey: kyberPreKey(900, p.identity),
    }),
    ok: 200,
    victimBody: () => code(400, 'invalid_signature'),
  },
  checkKeys: { body: (_w, p) => digestOf(p), ok: 200, victimBody: () => code(409, 'keys_mismatch') },
  getPreKeyBundle: { params: bobAsRecipient, ok: 200 },
  getDeviceKeys: { params: { ...bobAsRecipient, deviceId: () => '*' }, ok: 200, noDevice: false },
  sendMessages: {
    params: bobAsRecipient,
    body: (w) => ({
      messages: [{ deviceId: 1, registrationId: w.bob.registrationId, content: ciphertext(w.bob.registrationId) }],
      timestamp: 1_764_928_800_000,
    }),
    ok: 200,
    bound: true,
    noDevice: false,
  },
  sendMessage: { body: (w) => ({ recipient: w.bob.email, message: ciphertext(w.bob.registrationId) }), ok: 201 },
  getMessages: { ok: 200 },
  // Through inject there is no upgrade: the owner's request passes every check and answers 426 (the
  // same checks guard the upgrade; test/plugins/delivery.test.ts opens real sockets).
  openMessageSocket: { ok: 426 },
  openProvisioningSocket: { ok: 426 },
  sendProvisioningMessage: {
    params: { address: (w, p) => w.addresses.get(p.email) ?? 'no-socket-opened' },
    body: () => ({ body: randomBytes(96).toString('base64') }),
    ok: 204,
    prepare: provisioningSocket,
    // Another account's address answers as one that does not exist.
    foreignPath: code(404, 'no_provisioning_socket'),
  },
  deleteMessages: {
    body: (_w, p) => p.messageIds,
    ok: 200,
    // Deleting ids of someone else's queue answers as for ids that do not exist.
    victimBody: (w) => ({
      status: 200,
      body: w.alice.messageIds.map((id) => ({
        code: 'non-existant_message',
        message: `Message ${id} does not exist.`,
      })),
    }),
  },
}

const digestOf = async (p: Principal) => ({ digest: await keyDigest(p.identity, p.signedPreKey) })

export const authenticatedOperations = () => [...operations.values()].filter((op) => op.authenticated)
export const pathNamesDevice = (op: OperationInfo) => op.path.includes('{registrationId}')

/** The backticked error codes the spec documents for an operation's status. */
export function documentedCodes(op: OperationInfo, status: number): string[] {
  let response = spec.paths[op.path][op.method.toLowerCase()].responses[String(status)]
  if (response?.$ref) response = spec.components.responses[response.$ref.split('/').pop()]
  return [...String(response?.description ?? '').matchAll(/`([a-z_-]+)`/g)].map((m) => m[1])
}

/** The owner's request for an operation; `registrationId` in the path may be another device's. */
export async function requestFor(
  w: World,
  op: OperationInfo,
  owner: Principal,
  registrationId = owner.registrationId,
  change: Pick<NonNullable<Case['intrusions']>[number], 'params' | 'body'> = {},
): Promise<Req> {
  const c = cases[op.operationId]
  const params = { ...c.params, ...change.params }
  const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(name === 'registrationId' ? String(registrationId) : params[name](w, owner)),
  )
  const body = change.body ?? c.body
  return { url, body: body ? await body(w, owner) : undefined }
}

// ---- tokens -----------------------------------------------------------------------------------

const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
export const claimsOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())

/** A JWT made by hand: any header, any claims, HMAC-signed with `key` (unsigned without one). */
export function jwt(header: object, claims: object, key?: Buffer | string, hash = 'sha256'): string {
  const unsigned = `${part(header)}.${part(claims)}`
  return `${unsigned}.${key === undefined ? '' : createHmac(hash, key).update(unsigned).digest('base64url')}`
}

/** The key plugins/auth.ts derives from SECRET_KEY for auth tokens. */
export const tokenKey = (secretKey: string) => createHmac('sha256', secretKey).update('auth-tokens').digest()

// ---- the world ----------------------------------------------------------------------------------

const password = () => `orbit-${randomBytes(8).toString('hex')}`

export async function setUpWorld(t: T): Promise<World> {
  const built = await buildWithMail(t, { publicUrl: 'https://chat.example.org' })
  const { api, smtp } = built
  const clock = fakeClock(t)
  let nextRegistrationId = 4000
  const ok = <R extends { status: number; text: string }>(res: R, status: number, what: string): R => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`)
    return res
  }

  const login = async (p: { email: string; password: string }, deviceId?: number) =>
    ok(await api.post('/auth/login/', { email: p.email, password: p.password, deviceId }), 200, 'login').body
      .auth_token as string

  async function person(name: string, withDevice = true): Promise<Principal> {
    const user = await signUp(api, uniqueEmail(name), password())
    const device = deviceBody(++nextRegistrationId, `${user.email}.1`)
    if (withDevice) ok(await api.post('/device/', device, { token: user.token }), 201, 'device')
    return {
      ...user,
      deviceToken: withDevice ? await login(user, 1) : '',
      hasDevice: withDevice,
      registrationId: device.registrationId,
      identity: device.identityKey,
      signedPreKey: device.signedPreKey,
      preKeyPublics: device.preKeys.map((k) => k.publicKey),
      messageIds: [],
      messageBodies: [],
      appSecret: '',
      emailCode: '',
    }
  }

  async function send(from: Principal, to: Principal) {
    const body = randomBytes(48).toString('base64')
    const message = { recipient: to.email, message: ciphertext(to.registrationId, body) }
    const res = ok(await api.post(`/messages/${from.registrationId}/`, message, { token: from.token }), 201, 'send')
    to.messageIds.push(res.body.id)
    to.messageBodies.push(body)
  }

  /** App method active (and primary), email method activated but left pending. */
  async function withMfa(p: Principal) {
    p.appSecret = (await enableApp(api, p.token, clock)).secret
    const before = smtp.mails.length
    ok(await api.post('/auth/email/activate/', undefined, { token: p.token }), 200, 'email activate')
    p.emailCode = await mailedCode(smtp, p.email, before)
  }

  /** Two messages from Bob when it has a device; app 2FA active, email 2FA pending. */
  async function furnish(p: Principal) {
    if (p.hasDevice) for (let i = 0; i < 2; i++) await send(bob, p)
    await withMfa(p)
    return p
  }

  /** Adds a device to the account; its bound token and what it was registered with. */
  async function addDevice(p: Principal) {
    const device = deviceBody(++nextRegistrationId, `${p.email}.more`)
    const res = ok(await api.post('/v2/devices/', device, { token: p.token }), 201, 'add device')
    return { device, deviceId: res.body.deviceId as number, token: res.body.auth_token as string }
  }

  /**
   * A device removed, and a token that was bound to it. Alice: devices 2 (kept, the other device) and
   * 3 are added, and 3 removes itself. Nina, who must end without a device: her first one, deleted
   * through DELETE /device/ with its bound token.
   */
  async function removedDevice(p: Principal): Promise<{ token: string; other?: Principal }> {
    if (p.hasDevice) {
      const second = await addDevice(p)
      const third = await addDevice(p)
      if ([second.deviceId, third.deviceId].join() !== '2,3') throw new Error('devices 2 and 3 expected')
      ok(await api.delete('/v2/devices/3/', undefined, { token: third.token }), 204, 'remove device 3')
      const other: Principal = {
        ...p,
        token: second.token,
        deviceToken: second.token,
        registrationId: second.device.registrationId,
        identity: second.device.identityKey,
        signedPreKey: second.device.signedPreKey,
        preKeyPublics: second.device.preKeys.map((k) => k.publicKey),
        messageIds: [],
        messageBodies: [],
      }
      return { token: third.token, other }
    }
    const device = deviceBody(++nextRegistrationId, `${p.email}.gone`)
    ok(await api.post('/device/', device, { token: p.token }), 201, 'device')
    const token = await login(p, 1)
    ok(await api.delete('/device/', undefined, { token }), 204, 'delete device')
    return { token }
  }

  async function victim(name: string, withDevice: boolean): Promise<[Victim, Principal | undefined]> {
    const p = await person(name, withDevice)
    // Second sessions, logged out; opened before 2FA so that a plain login opens them.
    const loggedOutToken = await login(p)
    const loggedOutDeviceToken = withDevice ? await login(p, 1) : ''
    for (const token of [loggedOutToken, loggedOutDeviceToken].filter(Boolean))
      ok(await api.post('/auth/logout/', undefined, { token }), 204, 'logout')
    const removed = await removedDevice(p)
    await furnish(p)
    const second = ok(await api.post('/auth/login/', { email: p.email, password: p.password }), 200, 'login')
    const before = smtp.mails.length
    ok(await api.post('/auth/password/reset/', { email: p.email }), 204, 'reset')
    const link = /\/auth\/password\/reset\/confirm\/[^/\s]+\/([^/\s]+)\//.exec((await smtp.next(p.email, before)).text)
    if (!link || !second.body.ephemeral_token) throw new Error('no reset link or ephemeral token')
    const v: Victim = {
      ...p,
      loggedOutToken,
      loggedOutDeviceToken,
      ephemeralToken: second.body.ephemeral_token,
      resetToken: link[1],
      removedDeviceToken: removed.token,
    }
    return [v, removed.other]
  }

  const bob = await person('bob')
  const mallory = await furnish(await person('mallory'))
  const [alice, aliceOtherDevice] = await victim('alice', true)
  const [nina] = await victim('nina', false)
  let baseUrl: string | undefined

  // Dora deletes her account; a newcomer then signs up (SQLite may hand out her id again).
  const dora = await person('dora')
  ok(await api.delete('/auth/users/me/', { currentPassword: dora.password }, { token: dora.token }), 204, 'delete')
  await signUp(api, uniqueEmail('erin'), password())

  return {
    ...built,
    alice,
    aliceOtherDevice: aliceOtherDevice!,
    nina,
    mallory,
    bob,
    deletedAccountToken: dora.token,
    unusedRegistrationId: 4999, // far above the few dozen handed out here
    twin: async (like) => furnish(await person('twin', like.hasDevice)),
    async provisioning(p) {
      baseUrl ??= await built.app.listen({ host: '127.0.0.1', port: 0 })
      return openProvisioning(t, built.app, baseUrl, p.token)
    },
    addresses: new Map(),
    async forgive() {
      for (const p of [alice, nina, mallory])
        ok(await api.post('/auth/login/', { email: p.email, password: p.password }), 200, 'login')
    },
  }
}

/** Strings of a victim's that no refusal may carry: ciphertexts, keys, 2FA secrets and codes. */
export const secretsOf = (p: Principal) =>
  [...p.messageBodies, p.identity, p.signedPreKey.publicKey, ...p.preKeyPublics, p.appSecret, p.emailCode].filter(
    Boolean,
  )

/** A victim as she sees herself through the API; the same before and after the attacks. */
export async function victimView(w: World, p: Principal) {
  const { api } = w
  const token = p.token
  type Device = { deviceId: number; registrationId: number; name: string | null; created: string }
  const devices = await api.get<{ devices: Device[] }>('/v2/devices/', { token })
  const view: Record<string, unknown> = {
    me: (await api.get('/auth/users/me/', { token })).body,
    // Not lastSeen: the day a device was last seen may turn while the attacks run.
    devices:
      devices.status === 200
        ? devices.body.devices.map((d) => [d.deviceId, d.registrationId, d.name, d.created])
        : devices.body,
    methods: (await api.get('/auth/mfa/user-active-methods/', { token })).body,
    login: (await api.post('/auth/login/', { email: p.email, password: p.password })).body.method,
  }
  if (p.hasDevice) {
    const reg = p.registrationId
    const queue = await api.get<{ id: number; content: string }[]>(`/messages/${reg}/`, { token })
    // A refusal (the device gone) is recorded as such: it differs from any queue.
    view.messages = queue.status === 200 ? queue.body.map((m) => [m.id, m.content]) : queue.body
    view.preKeys = (await api.get(`/prekeys/${reg}/`, { token })).body
    view.keys = (await api.post(`/keys/check/${reg}/`, await digestOf(p), { token })).body.code
  }
  return view
}
