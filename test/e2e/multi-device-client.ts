// A multi-device client of the official @signalapp/libsignal-client for the end-to-end test of
// multi-device accounts: devices with real keys, linking a device through the provisioning relay
// with a sealed identity key, the send loop over `PUT /v2/messages/` (fetch keys, encrypt per
// device, and recover from 409 mismatched_devices and 410 stale_devices), and reading, over GET or
// the message socket, with the sender's address built from the deviceIds the server assigned.
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomInt,
} from 'node:crypto'
import type { Test } from 'tap'
import {
  CiphertextMessageType,
  IdentityKeyPair,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SignalMessage,
  SignedPreKeyRecord,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client'
import type { components, SignalServerClient } from '../../sdk/index.js'
import { PASSWORD } from '../helper.js'
import { connect, socketUrl } from '../message-socket.js'
import {
  MemoryIdentityStore,
  MemoryKyberPreKeyStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
} from './libsignal-client-stores.js'

type Sdk = (token?: string) => SignalServerClient
type Bundle = components['schemas']['DeviceBundle']
type ServerMessage = components['schemas']['Message']

export const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64')
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

const ecKey = (r: PreKeyRecord) => ({ keyId: r.id(), publicKey: b64(r.publicKey().serialize()) })
const signedKey = (r: SignedPreKeyRecord | KyberPreKeyRecord) => ({
  keyId: r.id(),
  publicKey: b64(r.publicKey().serialize()),
  signature: b64(r.signature()),
})

/** The libsignal address of device `deviceId` of the account `email`: the server's deviceId, as Signal does. */
export const addressOf = (email: string, deviceId: number) => ProtocolAddress.new(email, deviceId)

/** A registration ID in libsignal's 14-bit range that none of `taken` has (unique within an account). */
export function freshRegistrationId(taken: number[]): number {
  for (;;) {
    const id = randomInt(1, 16381)
    if (!taken.includes(id)) return id
  }
}

/**
 * Fresh keys for one device, all signed with `identity` (the device's own, or the account's shared
 * one): EC prekeys 1..10, signed prekey 1, Kyber prekeys 101..110 and last-resort Kyber prekey 199.
 * The private parts go into the device's stores; the answer is the registration body's key part.
 */
async function deviceKeys(identity: IdentityKeyPair, registrationId: number) {
  const stores = {
    session: new MemorySessionStore(),
    identity: new MemoryIdentityStore(identity.privateKey, registrationId),
    preKey: new MemoryPreKeyStore(),
    signed: new MemorySignedPreKeyStore(),
    kyber: new MemoryKyberPreKeyStore(),
  }
  const sign = (data: Uint8Array<ArrayBuffer>) => identity.privateKey.sign(data)
  const ec = range(1, 10).map((id) => {
    const key = PrivateKey.generate()
    return PreKeyRecord.new(id, key.getPublicKey(), key)
  })
  const signedPrivate = PrivateKey.generate()
  const signedPub = signedPrivate.getPublicKey()
  const signed = SignedPreKeyRecord.new(1, Date.now(), signedPub, signedPrivate, sign(signedPub.serialize()))
  const kyber = (id: number) => {
    const pair = KEMKeyPair.generate()
    return KyberPreKeyRecord.new(id, Date.now(), pair, sign(pair.getPublicKey().serialize()))
  }
  const pq = range(101, 10).map(kyber)
  const lastResort = kyber(199)
  for (const r of ec) await stores.preKey.savePreKey(r.id(), r)
  await stores.signed.saveSignedPreKey(signed.id(), signed)
  for (const r of pq) await stores.kyber.saveKyberPreKey(r.id(), r)
  stores.kyber.saveLastResort(lastResort)
  const body = {
    identityKey: b64(identity.publicKey.serialize()),
    registrationId,
    preKeys: ec.map(ecKey),
    signedPreKey: signedKey(signed),
    pqPreKeys: pq.map(signedKey),
    pqLastResortPreKey: signedKey(lastResort),
  }
  return { stores, body }
}

/** What a recipient device should read of one message, and what it did read. */
export type Read = {
  senderEmail: string | null | undefined
  senderDeviceId: number | null | undefined
  senderAddress: string
  senderRegistrationId: number
  timestamp: number | undefined
  type: CiphertextMessageType
  text: string
}

/** One device of an account, with its stores, its bound token and its view of other accounts' devices. */
export class Device {
  readonly address: ProtocolAddress
  /** Per account (email): the devices this device sends to, deviceId -> registrationId. */
  readonly deviceLists = new Map<string, Map<number, number>>()
  /** Every bundle list this device fetched, in order, as `GET /v2/keys/` answered it. */
  readonly fetched: { email: string; which: string; devices: Bundle[] }[] = []

  constructor(
    readonly label: string,
    readonly email: string,
    readonly deviceId: number,
    readonly registrationId: number,
    readonly identity: IdentityKeyPair,
    readonly stores: Awaited<ReturnType<typeof deviceKeys>>['stores'],
    readonly token: string,
    readonly api: SignalServerClient,
  ) {
    this.address = addressOf(email, deviceId)
  }

  /** How this device's messages arrive at a device bound reader: its own sender fields. */
  sender(timestamp: number) {
    return {
      senderEmail: this.email,
      senderDeviceId: this.deviceId,
      senderAddress: `${this.email}.${this.deviceId}`,
      senderRegistrationId: this.registrationId,
      timestamp,
    }
  }
}

/** Logs in with the account's password, bound to `deviceId` or (without it) unbound. */
export async function login(tt: Test, sdk: Sdk, email: string, deviceId?: number): Promise<string> {
  const res = await sdk().POST('/auth/login/', { body: { email, password: PASSWORD, deviceId } })
  tt.equal(res.response.status, 200, `${email} logs in${deviceId ? ` bound to device ${deviceId}` : ''}`)
  const data = res.data as { auth_token?: string } | undefined
  if (!data?.auth_token) throw new Error(`login of ${email} answered no auth_token`)
  return data.auth_token
}

/**
 * Registers the account's first device with `POST /device/` (unbound `api`), then logs in bound to
 * the deviceId the server assigned, as a multi-device client must to send with `PUT /v2/messages/`.
 */
export async function registerFirstDevice(
  tt: Test,
  sdk: Sdk,
  email: string,
  api: SignalServerClient,
  label: string,
  identity: IdentityKeyPair,
) {
  const registrationId = freshRegistrationId([])
  const { stores, body } = await deviceKeys(identity, registrationId)
  const res = await api.POST('/device/', { body: { address: `${email}.1`, ...body } })
  tt.equal(res.response.status, 201, `${label} registers with POST /device/`)
  tt.same(res.data, { code: 'device_created', message: 'Device created.', deviceId: 1 }, `${label} is device 1`)
  const token = await login(tt, sdk, email, 1)
  return new Device(label, email, 1, registrationId, identity, stores, token, sdk(token))
}

/**
 * Adds a device with `POST /v2/devices/` (any token of the account) and keys signed with
 * `identity`; the server numbers it, and it goes on with the token bound to it that the answer carries.
 * `expectedId` is the number the client names itself with in `address` (ids are never reused).
 */
export async function addDevice(
  tt: Test,
  sdk: Sdk,
  email: string,
  api: SignalServerClient,
  label: string,
  identity: IdentityKeyPair,
  takenRegistrationIds: number[],
  expectedId: number,
) {
  const registrationId = freshRegistrationId(takenRegistrationIds)
  const { stores, body } = await deviceKeys(identity, registrationId)
  const res = await api.POST('/v2/devices/', { body: { address: `${email}.${expectedId}`, name: label, ...body } })
  tt.equal(res.response.status, 201, `${label} registers with POST /v2/devices/`)
  const added = res.data!
  tt.equal(added.deviceId, expectedId, `the server numbers ${label} ${expectedId}`)
  const { deviceId, auth_token: token } = added
  return new Device(label, email, deviceId, registrationId, identity, stores, token, sdk(token))
}

// Sealing the identity key for a new device: X25519 between a one-off key of the sender and the new
// device's key (its public half shown out of band, as a QR code would), HKDF-SHA256 to an AES-256-GCM
// key, and the provisioning address as associated data, so that a body is only good for its socket.
// Layout: version (1) | sender's X25519 public key (32) | IV (12) | ciphertext | tag (16).
const SEAL_VERSION = 1
const SEAL_INFO = Buffer.from('signal-server-ts e2e provisioning: identity key')

const rawX25519 = (key: KeyObject) => Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url')
const x25519Public = (raw: Uint8Array) =>
  createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })

function sealKey(shared: Buffer, senderPublic: Buffer, recipientPublic: Buffer): Buffer {
  const salt = Buffer.concat([senderPublic, recipientPublic])
  return Buffer.from(hkdfSync('sha256', shared, salt, SEAL_INFO, 32))
}

/** The new device's one-off X25519 key pair; `publicKey` (raw, 32 bytes) is what it shows the existing device. */
export function provisioningKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return { privateKey, publicKey: rawX25519(publicKey) }
}

/** Seals `plaintext` for the holder of `recipientPublic` (raw X25519) and the provisioning `address`. */
export function seal(recipientPublic: Uint8Array, address: string, plaintext: Uint8Array): string {
  const own = generateKeyPairSync('x25519')
  const ownPublic = rawX25519(own.publicKey)
  const shared = diffieHellman({ privateKey: own.privateKey, publicKey: x25519Public(recipientPublic) })
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealKey(shared, ownPublic, Buffer.from(recipientPublic)), iv)
  cipher.setAAD(Buffer.from(address))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([Buffer.from([SEAL_VERSION]), ownPublic, iv, ciphertext, cipher.getAuthTag()]).toString('base64')
}

/** Opens a body sealed by `seal` with the new device's key pair; throws if altered or meant for another address. */
export function open(keys: ReturnType<typeof provisioningKeyPair>, address: string, sealed: string): Buffer {
  const data = Buffer.from(sealed, 'base64')
  if (data[0] !== SEAL_VERSION || data.length < 1 + 32 + 12 + 16) throw new Error('not a sealed provisioning body')
  const senderPublic = data.subarray(1, 33)
  const iv = data.subarray(33, 45)
  const shared = diffieHellman({ privateKey: keys.privateKey, publicKey: x25519Public(senderPublic) })
  const decipher = createDecipheriv('aes-256-gcm', sealKey(shared, senderPublic, keys.publicKey), iv)
  decipher.setAAD(Buffer.from(address))
  decipher.setAuthTag(data.subarray(data.length - 16))
  return Buffer.concat([decipher.update(data.subarray(45, data.length - 16)), decipher.final()])
}

/** The identity key pair as the existing device hands it over: private and public part. */
export const identityPlaintext = (identity: IdentityKeyPair) =>
  new TextEncoder().encode(
    JSON.stringify({
      identityPrivateKey: b64(identity.privateKey.serialize()),
      identityPublicKey: b64(identity.publicKey.serialize()),
    }),
  )

export function identityFromPlaintext(plaintext: Uint8Array): IdentityKeyPair {
  const json = JSON.parse(new TextDecoder().decode(plaintext)) as {
    identityPrivateKey: string
    identityPublicKey: string
  }
  const privateKey = PrivateKey.deserialize(bytes(json.identityPrivateKey))
  const publicKey = PublicKey.deserialize(bytes(json.identityPublicKey))
  if (!privateKey.getPublicKey().equals(publicKey)) throw new Error('the identity key halves do not belong together')
  return new IdentityKeyPair(publicKey, privateKey)
}

/**
 * Claims bundles of `email`'s devices (`which`: a deviceId or `*`), checks their signatures against
 * each device's identity key as a client must, and starts a PQXDH session with every one but the
 * caller itself, at the address built from the deviceId the server gave. Records what it learned
 * in the caller's device list for that account.
 */
async function fetchKeys(tt: Test, from: Device, email: string, which: string) {
  const res = await from.api.GET('/v2/keys/{recipientEmail}/{deviceId}/', {
    params: { path: { recipientEmail: email, deviceId: which } },
  })
  tt.equal(res.response.status, 200, `${from.label} claims keys of ${email} device ${which}`)
  const devices = res.data!.devices
  from.fetched.push({ email, which, devices })
  const list = from.deviceLists.get(email) ?? new Map<number, number>()
  from.deviceLists.set(email, list)
  for (const d of devices) {
    if (email === from.email && d.deviceId === from.deviceId) continue // its own bundle
    const identity = PublicKey.deserialize(bytes(d.identityKey))
    const signedPub = PublicKey.deserialize(bytes(d.signedPreKey.publicKey))
    if (!identity.verify(signedPub.serialize(), bytes(d.signedPreKey.signature)))
      tt.fail(`${email}.${d.deviceId}: the signed prekey signature does not verify`)
    if (!d.pqPreKey) {
      tt.fail(`${email}.${d.deviceId}: no Kyber prekey, which PQXDH needs`)
      continue
    }
    const kyberPub = KEMPublicKey.deserialize(bytes(d.pqPreKey.publicKey))
    if (!identity.verify(kyberPub.serialize(), bytes(d.pqPreKey.signature)))
      tt.fail(`${email}.${d.deviceId}: the Kyber prekey signature does not verify`)
    const bundle = PreKeyBundle.new(
      d.registrationId,
      d.deviceId,
      d.preKey?.keyId ?? null,
      d.preKey ? PublicKey.deserialize(bytes(d.preKey.publicKey)) : null,
      d.signedPreKey.keyId,
      signedPub,
      bytes(d.signedPreKey.signature),
      identity,
      d.pqPreKey.keyId,
      kyberPub,
      bytes(d.pqPreKey.signature),
    )
    await processPreKeyBundle(
      bundle,
      addressOf(email, d.deviceId),
      from.address,
      from.stores.session,
      from.stores.identity,
    )
    list.set(d.deviceId, d.registrationId)
  }
  return devices
}

/** One answer of `PUT /v2/messages/`, as the send loop saw it. */
type Attempt = { status: number; body: unknown }

/**
 * The send loop of a multi-device client: encrypts `text` for every device in its list for `email`
 * (fetching `*` first when it has none; for its own account, every device but itself), PUTs them
 * with a bound token and a timestamp, and on 409 fetches keys for the missing devices and drops the
 * extra ones (archiving their sessions), on 410 fetches keys again and starts new sessions for the
 * stale ones, and sends again. Answers every attempt, and what each device should read.
 */
export async function send(tt: Test, from: Device, email: string, text: string) {
  if (!from.deviceLists.has(email)) await fetchKeys(tt, from, email, '*')
  const list = from.deviceLists.get(email)!
  const attempts: Attempt[] = []
  const timestamp = Date.now()
  for (let round = 0; round < 4; round++) {
    const reads = new Map<number, Read>()
    const messages = []
    for (const [deviceId, registrationId] of [...list].sort(([a], [b]) => a - b)) {
      const ciphertext = await signalEncrypt(
        new TextEncoder().encode(text),
        addressOf(email, deviceId),
        from.address,
        from.stores.session,
        from.stores.identity,
      )
      const content = JSON.stringify({ type: ciphertext.type(), body: b64(ciphertext.serialize()) })
      messages.push({ deviceId, registrationId, content })
      reads.set(deviceId, { ...from.sender(timestamp), type: ciphertext.type(), text })
    }
    const res = await from.api.PUT('/v2/messages/{recipientEmail}/', {
      params: { path: { recipientEmail: email } },
      body: { messages, timestamp },
    })
    const body = (res.data ?? res.error) as {
      code?: string
      messages?: { deviceId: number; id: number }[]
      missingDevices?: number[]
      extraDevices?: number[]
      staleDevices?: number[]
    }
    attempts.push({ status: res.response.status, body })
    if (res.response.status === 200) return { attempts, reads, stored: body.messages! }
    if (res.response.status === 409 && body.code === 'mismatched_devices') {
      for (const deviceId of body.extraDevices ?? []) {
        list.delete(deviceId)
        const session = await from.stores.session.getSession(addressOf(email, deviceId))
        session?.archiveCurrentState()
        if (session) await from.stores.session.saveSession(addressOf(email, deviceId), session)
      }
      for (const deviceId of body.missingDevices ?? []) await fetchKeys(tt, from, email, String(deviceId))
    } else if (res.response.status === 410 && body.code === 'stale_devices') {
      for (const deviceId of body.staleDevices ?? []) await fetchKeys(tt, from, email, String(deviceId))
    } else {
      break
    }
  }
  tt.fail(`${from.label} -> ${email}: no 200 after ${attempts.length} attempts: ${JSON.stringify(attempts)}`)
  return { attempts, reads: new Map<number, Read>(), stored: [] }
}

/** Decrypts one queued message as `device`, from the sender's address built of senderEmail and senderDeviceId. */
async function decrypt(tt: Test, device: Device, m: ServerMessage): Promise<Read> {
  const { type, body } = JSON.parse(m.content) as { type: CiphertextMessageType; body: string }
  const read = {
    senderEmail: m.senderEmail,
    senderDeviceId: m.senderDeviceId,
    senderAddress: m.senderAddress,
    senderRegistrationId: m.senderRegistrationId,
    timestamp: m.timestamp,
    type,
  }
  if (typeof m.senderEmail !== 'string' || typeof m.senderDeviceId !== 'number') {
    tt.fail(`${device.label}: message ${m.id} names no sender account and device`)
    return { ...read, text: '' }
  }
  const sender = addressOf(m.senderEmail, m.senderDeviceId)
  const { session, identity, preKey, signed, kyber } = device.stores
  const plain =
    type === CiphertextMessageType.PreKey
      ? await signalDecryptPreKey(
          PreKeySignalMessage.deserialize(bytes(body)),
          sender,
          device.address,
          session,
          identity,
          preKey,
          signed,
          kyber,
        )
      : await signalDecrypt(SignalMessage.deserialize(bytes(body)), sender, device.address, session, identity)
  return { ...read, text: new TextDecoder('utf-8', { fatal: true }).decode(plain) }
}

/** Reads, decrypts and deletes what is queued for `device` with `GET`/`DELETE /messages/`; checks it is empty after. */
export async function receive(tt: Test, device: Device): Promise<Read[]> {
  const own = { params: { path: { registrationId: device.registrationId } } }
  const res = await device.api.GET('/messages/{registrationId}/', own)
  tt.equal(res.response.status, 200, `${device.label} reads its queue`)
  const read: Read[] = []
  for (const m of res.data!) read.push(await decrypt(tt, device, m))
  if (read.length) {
    const ids = res.data!.map((m) => m.id)
    const deleted = await device.api.DELETE('/messages/{registrationId}/', { ...own, body: ids })
    tt.same(
      deleted.data,
      ids.map(() => 'message_deleted'),
      `${device.label} deletes what it read`,
    )
  }
  tt.same((await device.api.GET('/messages/{registrationId}/', own)).data, [], `${device.label}'s queue is empty`)
  return read
}

/** As `receive`, over the message socket of `device` with its bound token: the backlog, acknowledged. */
export async function receiveOverSocket(tt: Test, baseUrl: string, device: Device): Promise<Read[]> {
  const socket = await connect(tt, socketUrl(baseUrl, device.registrationId), { token: device.token })
  const backlog = (await socket.backlog()) as unknown as ServerMessage[]
  const read: Read[] = []
  for (const m of backlog) read.push(await decrypt(tt, device, m))
  if (backlog.length) {
    const ids = backlog.map((m) => m.id)
    tt.same(await socket.ack(ids), { type: 'acked', deleted: ids, missing: [] }, `${device.label} acknowledges`)
  }
  socket.ws.close(1000)
  await socket.closed
  const own = { params: { path: { registrationId: device.registrationId } } }
  tt.same((await device.api.GET('/messages/{registrationId}/', own)).data, [], `${device.label}'s queue is empty`)
  return read
}
