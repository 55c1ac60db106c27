// The safety number of a conversation: 60 digits both people see alike and compare out of band (in
// person, on a call). It is computed as libsignal's displayable fingerprint (version 0): for each
// side, SHA-512 iterated 5200 times over (version, identity key, identifier), then 30 digits; the
// two halves sorted and joined. (libsignal-protocol-typescript's FingerprintGenerator computes the
// same with a JavaScript SHA-512; WebCrypto's is much faster.) Here every device has its own
// identity key, so a side's "key" is the concatenation of the identity keys of all its devices this
// browser knows, ordered by deviceId: the number changes when either side adds or removes a
// device, as it should, since a new device is a new key that can read the conversation.
import * as db from './db.js'
import { ProtocolStore } from './keys.js'
import type { Session } from './session.js'

/** The identity keys of `email`'s devices this browser has a session with, by deviceId. */
async function knownKeys(store: ProtocolStore, email: string): Promise<Map<number, ArrayBuffer>> {
  const keys = new Map<number, ArrayBuffer>()
  for (const deviceId of Object.keys((await db.get<Record<number, number>>('state', `devices:${email}`)) ?? {})) {
    const key = await store.identityOf(`${email}.${deviceId}`)
    if (key) keys.set(Number(deviceId), key)
  }
  return keys
}

function concatenate(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    all.set(p, offset)
    offset += p.length
  }
  return all
}

const ITERATIONS = 5200

/** One side's 30 digits: `identifier` is the account's email, `keys` its devices' identity keys. */
async function half(identifier: string, keys: Map<number, ArrayBuffer>): Promise<string> {
  const key = concatenate([...keys].sort(([a], [b]) => a - b).map(([, k]) => new Uint8Array(k)))
  let hash = concatenate([new Uint8Array([0, 0]), key, new TextEncoder().encode(identifier)])
  for (let i = 0; i < ITERATIONS; i++)
    hash = new Uint8Array(await crypto.subtle.digest('SHA-512', concatenate([hash, key])))
  let digits = ''
  for (let offset = 0; offset < 30; offset += 5) {
    const chunk = hash.slice(offset, offset + 5).reduce((n, byte) => n * 256 + byte, 0)
    digits += String(chunk % 100000).padStart(5, '0')
  }
  return digits
}

/** The safety number with `contact`, in 12 groups of 5 digits; undefined before the first message. */
export async function safetyNumber(session: Session, contact: string): Promise<string | undefined> {
  const store = new ProtocolStore(session.device)
  const theirs = await knownKeys(store, contact)
  if (!theirs.size) return undefined
  const mine = await knownKeys(store, session.device.email)
  mine.set(session.device.deviceId, session.device.identity.pubKey)
  const halves = [await half(session.device.email, mine), await half(contact, theirs)].sort()
  return halves.join('').match(/.{5}/g)!.join(' ')
}
