import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { keyDigest } from '../sdk/key-digest.js'
import {
  build,
  ciphertext,
  deviceBody,
  kyberPreKeys,
  PASSWORD,
  preKeys,
  signedPreKey,
  signUp,
  userWithDevice,
  type Api,
  type ApiResponse,
} from './helper.js'

// Request signing as a client does it, written from openapi.yaml's `Signature` parameter rather
// than imported from lib/request-signing.ts, so the server is checked against the spec.

export type SigningKey = { publicKey: string; privateKey: KeyObject }

/** An Ed25519 key pair; `publicKey` is the raw 32 bytes in standard padded base64, as `signingKey` wants. */
export function signingKeyPair(): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  return { publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64'), privateKey }
}

/** `<counter>` LF `<METHOD>` LF `<path and query>` LF, then the body bytes. */
const signedBytes = (counter: number | string, method: string, url: string, body: string | Buffer = '') =>
  Buffer.concat([Buffer.from(`${counter}\n${method}\n${url}\n`, 'utf8'), Buffer.from(body)])

export const rawSignature = (
  key: KeyObject,
  counter: number | string,
  method: string,
  url: string,
  body?: string | Buffer,
) => sign(null, signedBytes(counter, method, url, body), key)

/** The `Signature` header value: `<counter>.<base64 signature>`. */
export const signatureHeader = (
  key: KeyObject,
  counter: number | string,
  method: string,
  url: string,
  body?: string | Buffer,
) => `${counter}.${rawSignature(key, counter, method, url, body).toString('base64')}`

/** A request with its body as the exact JSON text that goes on the wire (and is signed). */
export type Req = { method: string; url: string; body?: string }

/** Sends `req` byte for byte; `signature` may be an array to send the header twice. Contract-checked by the client. */
export function send(api: Api, token: string, req: Req, signature?: string | string[]): Promise<ApiResponse> {
  const headers: Record<string, string> = {}
  if (signature !== undefined) headers.signature = signature as string
  if (req.body !== undefined) headers['content-type'] = 'application/json'
  return api.request(req.method, req.url, undefined, { token, headers, raw: req.body })
}

export const signedSend = (api: Api, token: string, key: KeyObject, counter: number, req: Req) =>
  send(api, token, req, signatureHeader(key, counter, req.method, req.url, req.body))

/** The last counter accepted for the user's device's signing key (0 before any). */
export async function storedCounter(app: FastifyInstance, userId: number): Promise<number> {
  const device = await app.db.knex('devices').where({ user_id: userId }).first('signing_key')
  const row =
    device?.signing_key &&
    (await app.db.knex('signing_counters').where({ signing_key: device.signing_key }).first('counter'))
  return Number(row?.counter ?? 0)
}

const count = async (app: FastifyInstance, table: string, userId: number) =>
  Number(
    (
      await app.db
        .knex(table)
        .join('devices', 'devices.id', `${table}.device_id`)
        .where('devices.user_id', userId)
        .count({ n: '*' })
    )[0].n,
  )

/**
 * Alice (device with `signingKey` when `key` is given), Bob with a device, and three messages from
 * Bob queued for Alice: enough for every signed operation to have a valid request to make.
 */
export async function signingWorld(t: Parameters<typeof build>[0], key?: SigningKey) {
  const { app, api } = await build(t)
  const user = await signUp(api)
  const device = { ...deviceBody(7001, `${user.email}.1`), ...(key && { signingKey: key.publicKey }) }
  const created = await api.post('/device/', device, { token: user.token })
  if (created.status !== 201) throw new Error(`alice's device: ${created.status} ${created.text}`)
  const alice = {
    ...user,
    registrationId: device.registrationId,
    identity: device.identityKey,
    signedPreKey: device.signedPreKey,
    inbox: [] as number[],
  }
  const bob = await userWithDevice(api)
  for (let i = 0; i < 3; i++) {
    const res = await api.post(
      `/messages/${bob.registrationId}/`,
      { recipient: alice.email, message: ciphertext(alice.registrationId) },
      { token: bob.token },
    )
    if (res.status !== 201) throw new Error(`bob's message: ${res.status} ${res.text}`)
    alice.inbox.push(res.body.id)
  }
  return { app, api, alice, bob, nextKeyId: 100 }
}
export type World = Awaited<ReturnType<typeof signingWorld>>

/** A valid request of Alice's for an operation, and what it must answer when it goes through. */
export type Case = Req & { ok: number; check(res: ApiResponse): Promise<boolean> | boolean }

const json = (body: unknown) => JSON.stringify(body)

/** For every `x-device-signed` operation: a fresh valid request each call (new keys, the next message id). */
export const cases: Record<string, (w: World) => Promise<Case> | Case> = {
  getPreKeyCount: (w) => ({
    method: 'GET',
    url: `/prekeys/${w.alice.registrationId}/`,
    ok: 200,
    check: async (res) =>
      json(res.body) ===
      json({ count: await count(w.app, 'prekeys', w.alice.id), pqCount: await count(w.app, 'pq_prekeys', w.alice.id) }),
  }),
  uploadPreKeys: (w) => {
    const keys = preKeys(w.nextKeyId++, 1)
    return {
      method: 'POST',
      url: `/prekeys/${w.alice.registrationId}/`,
      body: json(keys),
      ok: 200,
      check: (res) => res.body.code === 'prekeys_stored',
    }
  },
  replaceSignedPreKey: (w) => {
    const key = signedPreKey(w.nextKeyId++, w.alice.identity)
    return {
      method: 'POST',
      url: `/signedprekey/${w.alice.registrationId}/`,
      body: json(key),
      ok: 200,
      // From now on the key check must be over the new key.
      check: (res) => {
        if (res.body.code !== 'signed_prekey_stored') return false
        w.alice.signedPreKey = key
        return true
      },
    }
  },
  uploadPqPreKeys: (w) => ({
    method: 'POST',
    url: `/pqprekeys/${w.alice.registrationId}/`,
    body: json({ pqPreKeys: kyberPreKeys(w.nextKeyId++, 1, w.alice.identity) }),
    ok: 200,
    check: (res) => res.body.code === 'pq_prekeys_stored',
  }),
  checkKeys: async (w) => ({
    method: 'POST',
    url: `/keys/check/${w.alice.registrationId}/`,
    body: json({ digest: await keyDigest(w.alice.identity, w.alice.signedPreKey) }),
    ok: 200,
    check: (res) => res.body.code === 'keys_match',
  }),
  getPreKeyBundle: (w) => ({
    method: 'GET',
    url: `/prekeybundle/${encodeURIComponent(w.bob.email)}/${w.alice.registrationId}/`,
    ok: 200,
    check: (res) => res.body.address === w.bob.device.address && res.body.registrationId === w.bob.registrationId,
  }),
  sendMessage: (w) => {
    // Not ASCII: the signature is over the UTF-8 bytes.
    const message = ciphertext(w.bob.registrationId, `héllo ✓ ${w.nextKeyId++}`)
    return {
      method: 'POST',
      url: `/messages/${w.alice.registrationId}/`,
      body: json({ recipient: w.bob.email, message }),
      ok: 201,
      check: (res) => res.body.content === message && res.body.senderRegistrationId === w.alice.registrationId,
    }
  },
  getMessages: (w) => ({
    method: 'GET',
    url: `/messages/${w.alice.registrationId}/`,
    ok: 200,
    check: (res) => json(res.body.map((m: { id: number }) => m.id)) === json(w.alice.inbox),
  }),
  deleteMessages: (w) => {
    const id = w.alice.inbox[0]
    return {
      method: 'DELETE',
      url: `/messages/${w.alice.registrationId}/`,
      body: json([id]),
      ok: 200,
      check: (res) => json(res.body) === json(['message_deleted']) && w.alice.inbox.shift() === id,
    }
  },
  // Without an Upgrade header the socket's route answers 426 once every check before the upgrade
  // (the signature's included) has passed; test/plugins/delivery.test.ts signs real upgrades.
  openMessageSocket: (w) => ({
    method: 'GET',
    url: `/messages/${w.alice.registrationId}/websocket/`,
    ok: 426,
    check: (res) => res.body.code === 'upgrade_required',
  }),
  // Alice's token here is not bound to her device, so once every check before the handler (the
  // signature's included) has passed, the send answers 403 device_required;
  // test/plugins/device-signature-bound.test.ts signs sends with a bound token that go through.
  sendMessages: (w) => ({
    method: 'PUT',
    url: `/v2/messages/${encodeURIComponent(w.bob.email)}/`,
    body: json({ messages: [{ deviceId: 1, registrationId: w.bob.registrationId, content: 'x' }] }),
    ok: 403,
    check: (res) => res.body.code === 'device_required',
  }),
  // A device that does not exist, with the right password: 404 once the signature and the password
  // passed, and nothing removed (removing the device ends every other case; deleteDevice does, last).
  removeDevice: () => ({
    method: 'DELETE',
    url: '/v2/devices/99/',
    // The password's last letter as a JSON escape: the body has a digit for the forgeries to change.
    body: json({ currentPassword: PASSWORD }).replace(/e"}$/, '\\u0065"}'),
    ok: 404,
    check: (res) => res.body.code === 'no_device',
  }),
  deleteDevice: () => ({ method: 'DELETE', url: '/device/', ok: 204, check: (res) => res.body === undefined }),
}
