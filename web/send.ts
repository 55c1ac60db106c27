// The multi-device send loop (README, "Several devices per account"). A message goes to every device
// of the contact and, as a sync, to the account's own other devices, one ciphertext per device in
// one `PUT /v2/messages/`. The server checks the list against the account's devices and stores all
// or nothing: 409 mismatched_devices names the devices to add and to drop, 410 stale_devices the
// ones that registered anew; the loop mends its list and sends again.
import { SessionBuilder, SessionCipher, SignalProtocolAddress } from '@privacyresearch/libsignal-protocol-typescript'
import type { components } from '../sdk/index.js'
import * as db from './db.js'
import { fromBase64, ProtocolStore } from './keys.js'
import type { Session } from './session.js'
import { ServerError } from './session.js'

/** What is encrypted: the text, and for a sync to one's own devices, whom it was written to. */
export type Envelope = { text: string; to?: string }

/** Per account: the devices this browser sends to, deviceId -> registrationId. Kept in IndexedDB. */
type DeviceList = Record<number, number>
const listKey = (email: string) => `devices:${email}`

/** One answer of `PUT /v2/messages/`, for whoever wants to watch the loop (the UI logs them). */
type Attempt = { email: string; status: number; code?: string }

/**
 * Claims prekey bundles of `email`'s devices (`which`: one deviceId, or `*` for all; `*` on one's
 * own account leaves this device out) and starts a session with each. libsignal checks the signed
 * prekey's signature against the device's identity key.
 */
async function startSessions(session: Session, email: string, which: string, list: DeviceList) {
  const res = await session.api.GET('/v2/keys/{recipientEmail}/{deviceId}/', {
    params: { path: { recipientEmail: email, deviceId: which } },
  })
  if (!res.data) throw new ServerError(res.response.status, res.error?.code ?? 'error', res.error?.message ?? '')
  const store = new ProtocolStore(session.device)
  for (const d of res.data.devices) await startSession(store, email, d, list)
}

async function startSession(
  store: ProtocolStore,
  email: string,
  bundle: components['schemas']['DeviceBundle'],
  list: DeviceList,
) {
  const builder = new SessionBuilder(store, new SignalProtocolAddress(email, bundle.deviceId))
  await builder.processPreKey({
    registrationId: bundle.registrationId,
    identityKey: fromBase64(bundle.identityKey),
    signedPreKey: {
      keyId: bundle.signedPreKey.keyId,
      publicKey: fromBase64(bundle.signedPreKey.publicKey),
      signature: fromBase64(bundle.signedPreKey.signature),
    },
    preKey: bundle.preKey && { keyId: bundle.preKey.keyId, publicKey: fromBase64(bundle.preKey.publicKey) },
  })
  list[bundle.deviceId] = bundle.registrationId
}

/** Encrypts `envelope` once per device of the list. */
async function encryptForAll(session: Session, email: string, list: DeviceList, envelope: Envelope) {
  const plaintext = new TextEncoder().encode(JSON.stringify(envelope)).buffer as ArrayBuffer
  const store = new ProtocolStore(session.device)
  const messages = []
  for (const [deviceId, registrationId] of Object.entries(list)) {
    const cipher = new SessionCipher(store, new SignalProtocolAddress(email, Number(deviceId)))
    const ct = await cipher.encrypt(plaintext)
    // libsignal-protocol-typescript answers the body as a binary string; the server carries base64.
    const body = btoa(ct.body!)
    messages.push({ deviceId: Number(deviceId), registrationId, content: JSON.stringify({ type: ct.type, body }) })
  }
  return messages
}

/**
 * Sends `envelope` to every device of `email` in one request, mending the device list on 409 and
 * 410 and trying again. Answers every attempt's status.
 */
async function sendToAccount(session: Session, email: string, envelope: Envelope, timestamp: number) {
  const store = new ProtocolStore(session.device)
  let list = (await db.get<DeviceList>('state', listKey(email))) ?? {}
  if (!Object.keys(list).length) await startSessions(session, email, '*', list)
  const attempts: Attempt[] = []
  for (let round = 0; round < 5; round++) {
    const messages = await encryptForAll(session, email, list, envelope)
    const res = await session.api.PUT('/v2/messages/{recipientEmail}/', {
      params: { path: { recipientEmail: email } },
      body: { messages, timestamp },
    })
    const refusal = res.error as
      | { code: string; message: string; missingDevices?: number[]; extraDevices?: number[]; staleDevices?: number[] }
      | undefined
    attempts.push({ email, status: res.response.status, code: refusal?.code })
    if (res.response.ok) {
      await db.put('state', listKey(email), list)
      return attempts
    }
    if (res.response.status === 409 && refusal?.code === 'mismatched_devices') {
      // Removed devices: forget them. New ones: claim their keys and start sessions.
      list = { ...list }
      for (const deviceId of refusal.extraDevices ?? []) {
        delete list[deviceId]
        await store.removeSession(new SignalProtocolAddress(email, deviceId).toString())
      }
      for (const deviceId of refusal.missingDevices ?? []) await startSessions(session, email, String(deviceId), list)
    } else if (res.response.status === 410 && refusal?.code === 'stale_devices') {
      // Registered anew under the same number: the old session is worthless.
      for (const deviceId of refusal.staleDevices ?? []) {
        await store.removeSession(new SignalProtocolAddress(email, deviceId).toString())
        await startSessions(session, email, String(deviceId), list)
      }
    } else {
      throw new ServerError(res.response.status, refusal?.code ?? 'error', refusal?.message ?? 'The send failed.')
    }
  }
  throw new Error(`Could not send to ${email}: the device list kept changing.`)
}

/**
 * Sends a chat message: to the contact's devices, then, as a sync, to this account's other devices
 * when it has any. `ownDevices` is the account's device list as the page last fetched it
 * (`GET /v2/devices/`, again after each `devices_changed` frame), so a send costs no extra request;
 * should it be out of date, the sync's own 409 mends it.
 */
export async function sendMessage(session: Session, contact: string, text: string, ownDevices: number[]) {
  const timestamp = Date.now()
  const attempts = await sendToAccount(session, contact, { text }, timestamp)
  if (ownDevices.some((deviceId) => deviceId !== session.device.deviceId))
    attempts.push(...(await sendToAccount(session, session.device.email, { text, to: contact }, timestamp)))
  else await db.remove('state', listKey(session.device.email)) // alone: start afresh when another device comes
  await db.addMessage({ contact, direction: 'out', text, timestamp, senderDeviceId: session.device.deviceId })
  return attempts
}
