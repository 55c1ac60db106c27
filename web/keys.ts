// Key storage and the key lifecycle: the protocol store libsignal reads and writes (kept in
// IndexedDB, db.ts), the keys a new device registers with, and topping up one-time prekeys.
import {
  type Direction,
  KeyHelper,
  type KeyPairType,
  type SessionRecordType,
  type StorageType,
} from '@privacyresearch/libsignal-protocol-typescript'
import type { SignalServerClient } from '../sdk/index.js'
import * as db from './db.js'

const toBase64 = (buffer: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
export const fromBase64 = (text: string): ArrayBuffer => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer

/** This browser's device: what it registered with, and what the server numbered it. */
export type OwnDevice = {
  email: string
  deviceId: number
  registrationId: number
  identity: KeyPairType
  /** The highest one-time prekey id used so far; new ones continue from it. */
  lastPreKeyId: number
}

/**
 * libsignal's store, backed by IndexedDB. Addresses are `<email>.<deviceId>`, as libsignal encodes
 * them. Each device of this client has its own identity key, so a person's devices have different
 * ones: libsignal asks whether to trust a key by the account's name alone, so this store trusts on
 * first use and remembers each device's key; the safety number (safety-number.ts) is how people
 * check them.
 */
export class ProtocolStore implements StorageType {
  constructor(private readonly device: OwnDevice) {}

  async getIdentityKeyPair() {
    return this.device.identity
  }
  async getLocalRegistrationId() {
    return this.device.registrationId
  }
  async isTrustedIdentity(_name: string, _identityKey: ArrayBuffer, _direction: Direction) {
    return true
  }
  /** Answers whether the address had another key before (libsignal's contract). */
  async saveIdentity(address: string, publicKey: ArrayBuffer) {
    const known = await db.get<ArrayBuffer>('protocol', `identity:${address}`)
    await db.put('protocol', `identity:${address}`, publicKey)
    return known !== undefined && toBase64(known) !== toBase64(publicKey)
  }
  /** The identity key remembered for one device, as libsignal saved it from a bundle or a message. */
  identityOf(address: string) {
    return db.get<ArrayBuffer>('protocol', `identity:${address}`)
  }
  loadPreKey(keyId: string | number) {
    return db.get<KeyPairType>('protocol', `preKey:${keyId}`)
  }
  storePreKey(keyId: number | string, keyPair: KeyPairType) {
    return db.put('protocol', `preKey:${keyId}`, keyPair)
  }
  removePreKey(keyId: number | string) {
    return db.remove('protocol', `preKey:${keyId}`)
  }
  storeSession(address: string, record: SessionRecordType) {
    return db.put('protocol', `session:${address}`, record)
  }
  loadSession(address: string) {
    return db.get<SessionRecordType>('protocol', `session:${address}`)
  }
  /** Forgets the session with a device that is gone or registered anew. */
  removeSession(address: string) {
    return db.remove('protocol', `session:${address}`)
  }
  loadSignedPreKey(keyId: number | string) {
    return db.get<KeyPairType>('protocol', `signedPreKey:${keyId}`)
  }
  storeSignedPreKey(keyId: number | string, keyPair: KeyPairType) {
    return db.put('protocol', `signedPreKey:${keyId}`, keyPair)
  }
  removeSignedPreKey(keyId: number | string) {
    return db.remove('protocol', `signedPreKey:${keyId}`)
  }
}

/** One-time prekeys kept on the server; topped up when fewer than a fifth are left. */
const PREKEYS = 50
const LOW = PREKEYS / 5

/** Makes `count` one-time prekeys after `device.lastPreKeyId`, keeps their private halves, answers the public ones. */
async function newPreKeys(store: ProtocolStore, device: OwnDevice, count: number) {
  const keys = []
  for (let i = 1; i <= count; i++) {
    const keyId = device.lastPreKeyId + i
    const { keyPair } = await KeyHelper.generatePreKey(keyId)
    await store.storePreKey(keyId, keyPair)
    keys.push({ keyId, publicKey: toBase64(keyPair.pubKey) })
  }
  device.lastPreKeyId += count
  return keys
}

/**
 * A new device's keys: identity key pair, registration ID, signed prekey 1 and PREKEYS one-time
 * prekeys, their private halves stored. Answers the device and the public part for `POST /v2/devices/`.
 * (libsignal-protocol-typescript speaks X3DH, not PQXDH, so no Kyber prekeys are uploaded.)
 */
export async function createDeviceKeys(email: string) {
  const identity = await KeyHelper.generateIdentityKeyPair()
  const device: OwnDevice = {
    email,
    deviceId: 0, // numbered by the server
    registrationId: KeyHelper.generateRegistrationId(),
    identity,
    lastPreKeyId: 0,
  }
  const store = new ProtocolStore(device)
  const signed = await KeyHelper.generateSignedPreKey(identity, 1)
  await store.storeSignedPreKey(1, signed.keyPair)
  const preKeys = await newPreKeys(store, device, PREKEYS)
  const keys = {
    identityKey: toBase64(identity.pubKey),
    registrationId: device.registrationId,
    signedPreKey: { keyId: 1, publicKey: toBase64(signed.keyPair.pubKey), signature: toBase64(signed.signature) },
    preKeys,
  }
  return { device, keys }
}

/** Asks how many one-time prekeys the server has left for this device and uploads more when few are. */
export async function replenishPreKeys(api: SignalServerClient, device: OwnDevice) {
  const path = { registrationId: device.registrationId }
  const { data } = await api.GET('/prekeys/{registrationId}/', { params: { path } })
  if (!data || data.count >= LOW) return
  const preKeys = await newPreKeys(new ProtocolStore(device), device, PREKEYS - data.count)
  await db.put('state', 'device', device)
  await api.POST('/prekeys/{registrationId}/', { params: { path }, body: preKeys })
}
