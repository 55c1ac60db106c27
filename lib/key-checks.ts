import type { FieldError } from './api-error.js'
import { isValidEmail } from './email.js'
import { errors } from './errors.js'
import type { Schemas } from './handlers.js'
import { verifyXEdDSABase64 } from './xeddsa.js'

// Checks on uploaded keys that the schema cannot state. The key shapes are the contract's.
export type PreKey = Schemas['PreKey']
export type SignedPreKey = Schemas['SignedPreKey']
export type KyberPreKey = Schemas['KyberPreKey']

/** Rejects a batch with a repeated keyId or one that would take the stored count past the limit. */
export function checkPreKeyBatch(keys: PreKey[], stored: number, max: number): void {
  const seen = new Set<number>()
  for (const { keyId } of keys) {
    if (seen.has(keyId)) throw errors.prekeyIdExists(keyId)
    seen.add(keyId)
  }
  if (stored + keys.length > max) throw errors.reachedMaxPrekeys(max, stored)
}

/**
 * Throws 400 `invalid_signature` naming every signed key whose signature does not verify against
 * the identity key. `keys` maps a field path (e.g. `body.pqPreKeys[3]`) to the key there.
 */
export function checkSignatures(identityKey: string, keys: [field: string, key: SignedPreKey | undefined][]): void {
  const bad: FieldError[] = []
  for (const [field, key] of keys) {
    if (key && !verifyXEdDSABase64(identityKey, key.publicKey, key.signature)) {
      bad.push({ field: `${field}.signature`, message: 'does not verify against the identity key' })
    }
  }
  if (bad.length) throw errors.invalidSignature(bad)
}

/** The signed keys of a PQ upload (device registration or `/pqprekeys`), with their field paths. */
export function pqSignedKeys(prefix: string, body: { pqPreKeys?: KyberPreKey[]; pqLastResortPreKey?: KyberPreKey }) {
  const keys: [string, SignedPreKey | undefined][] = (body.pqPreKeys ?? []).map((k, i) => [
    `${prefix}.pqPreKeys[${i}]`,
    k,
  ])
  keys.push([`${prefix}.pqLastResortPreKey`, body.pqLastResortPreKey])
  return keys
}

/** A recipient email arrives in a path segment or a body field that the schema does not format-check. */
export function assertRecipientEmail(email: string): void {
  if (!isValidEmail(email)) throw errors.invalidRecipientEmail()
}
