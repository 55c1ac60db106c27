import { timingSafeEqual } from 'node:crypto'
import { ApiError, type FieldError } from '../lib/api-error.js'
import { isValidEmail } from '../lib/email.js'
import { keyDigest } from '../sdk/key-digest.js'
import { verifyXEdDSABase64 } from '../lib/xeddsa.js'
import { isUniqueViolation } from '../db/connection.js'
import type { OneTimeKind } from '../db/keys.js'
import type { DeviceRow, KyberPreKey, PreKey, SignedPreKey } from '../db/devices.js'
import type { FastifyRequest } from 'fastify'
import type { Handlers } from '../lib/handlers.js'
import { ownDevice } from './common.js'

const idExists = (keyId?: number) =>
  new ApiError(
    400,
    'prekey_id_exists',
    keyId === undefined
      ? 'A prekey with one of these keyIds already exists.'
      : `A prekey with keyId ${keyId} already exists.`,
  )

/** Rejects a batch with a repeated keyId or one that would take the stored count past the limit. */
export function checkPreKeyBatch(keys: PreKey[], stored: number, max: number): void {
  const seen = new Set<number>()
  for (const { keyId } of keys) {
    if (seen.has(keyId)) throw idExists(keyId)
    seen.add(keyId)
  }
  if (stored + keys.length > max) {
    throw new ApiError(400, 'reached_max_prekeys', `At most ${max} prekeys can be stored; ${stored} are stored now.`)
  }
}

/**
 * Throws 400 `invalid_signature` naming every signed key whose signature does not verify against
 * the identity key. `keys` maps a field path (e.g. `body.pqPreKeys[3]`) to the key there.
 */
export function checkSignatures(identityKey: string, keys: [field: string, key: SignedPreKey | undefined][]): void {
  const errors: FieldError[] = []
  for (const [field, key] of keys) {
    if (key && !verifyXEdDSABase64(identityKey, key.publicKey, key.signature)) {
      errors.push({ field: `${field}.signature`, message: 'does not verify against the identity key' })
    }
  }
  if (errors.length)
    throw new ApiError(400, 'invalid_signature', 'A signature does not verify against the identity key.', errors)
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

export function assertRecipientEmail(email: string): void {
  if (!isValidEmail(email))
    throw new ApiError(400, 'invalid_recipient_email', 'The recipient email is not a valid email address.')
}

/** Stores one-time keys all or nothing, counted under the device's lock so racing uploads cannot overshoot. */
async function storeOneTime(
  request: FastifyRequest,
  device: DeviceRow,
  kind: OneTimeKind,
  batch: PreKey[],
  lastResort?: KyberPreKey,
) {
  const { db, config } = request.server
  try {
    await db.knex.transaction(async (trx) => {
      if (!(await db.devices.lock(device.id, trx)))
        throw new ApiError(404, 'no_device', 'You have no registered device.')
      checkPreKeyBatch(batch, await db.keys.countOneTime(kind, device.id, trx), config.maxPrekeys)
      const [taken] = batch.length
        ? await db.keys.existingKeyIds(
            kind,
            device.id,
            batch.map((k) => k.keyId),
            trx,
          )
        : []
      if (taken !== undefined) throw idExists(taken)
      if (batch.length) await db.keys.insertOneTime(kind, device.id, batch as KyberPreKey[], trx)
      if (lastResort) await db.keys.replaceLastResort(device.id, lastResort, trx)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw idExists()
    throw err
  }
}

export const keys = {
  async getPreKeyCount(request) {
    const { db } = request.server
    const device = await ownDevice(request, request.params.registrationId)
    const [count, pqCount] = await Promise.all([
      db.keys.countOneTime('ec', device.id),
      db.keys.countOneTime('pq', device.id),
    ])
    return { status: 200, body: { count, pqCount } }
  },

  async uploadPreKeys(request) {
    const device = await ownDevice(request, request.params.registrationId)
    await storeOneTime(request, device, 'ec', request.body)
    return { status: 200, body: { code: 'prekeys_stored', message: 'Prekeys stored.' } }
  },

  async uploadPqPreKeys(request) {
    const device = await ownDevice(request, request.params.registrationId)
    const body = request.body
    if (!body.pqPreKeys.length && !body.pqLastResortPreKey) {
      throw new ApiError(400, 'invalid_data', 'Send at least one Kyber prekey.', [
        { field: 'body.pqPreKeys', message: 'must not be empty without pqLastResortPreKey' },
      ])
    }
    checkSignatures(device.identity_key, pqSignedKeys('body', body))
    await storeOneTime(request, device, 'pq', body.pqPreKeys, body.pqLastResortPreKey)
    return { status: 200, body: { code: 'pq_prekeys_stored', message: 'Kyber prekeys stored.' } }
  },

  async replaceSignedPreKey(request) {
    const { db } = request.server
    const device = await ownDevice(request, request.params.registrationId)
    checkSignatures(device.identity_key, [['body', request.body]])
    await db.keys.replaceSignedPreKey(device.id, request.body)
    return { status: 200, body: { code: 'signed_prekey_stored', message: 'Signed prekey stored.' } }
  },

  async checkKeys(request) {
    const { db } = request.server
    const device = await ownDevice(request, request.params.registrationId)
    const [signedPreKey, lastResort] = await Promise.all([
      db.keys.getSignedPreKey(device.id),
      db.keys.getLastResort(device.id),
    ])
    if (!signedPreKey) throw new ApiError(404, 'no_device', 'You have no registered device.')
    const ours = Buffer.from(await keyDigest(device.identity_key, signedPreKey, lastResort), 'base64')
    const theirs = Buffer.from(request.body.digest, 'base64') // 32 bytes: the schema's pattern
    if (!timingSafeEqual(ours, theirs)) {
      throw new ApiError(409, 'keys_mismatch', 'The server holds different keys; upload them again.')
    }
    return { status: 200, body: { code: 'keys_match', message: 'The server holds the same keys.' } }
  },

  async getPreKeyBundle(request) {
    const { db } = request.server
    const { recipientEmail, registrationId } = request.params
    assertRecipientEmail(recipientEmail)
    await ownDevice(request, registrationId)
    const recipient = await db.devices.findByEmail(recipientEmail)
    if (!recipient) throw new ApiError(404, 'no_recipient', 'No user has that email.')
    if (recipient.id === null) throw new ApiError(404, 'no_recipient_device', 'The recipient has no registered device.')
    const bundle = await db.knex.transaction(async (trx) => {
      // Held until commit: a deletion of the device waits for this claim, or this claim sees it gone.
      if (!(await db.devices.lock(recipient.id, trx, 'share'))) return undefined
      const signedPreKey = await db.keys.getSignedPreKey(recipient.id, trx)
      const preKey = await db.keys.claimOneTime('ec', recipient.id, trx)
      const oneTimePq = await db.keys.claimOneTime('pq', recipient.id, trx)
      const lastResort = oneTimePq ? undefined : await db.keys.getLastResort(recipient.id, trx)
      const pqPreKey = oneTimePq
        ? { ...oneTimePq, lastResort: false }
        : lastResort && { ...lastResort, lastResort: true }
      return { signedPreKey, preKey, pqPreKey }
    })
    // A device deleted between the lookup and the claim.
    if (!bundle?.signedPreKey) throw new ApiError(404, 'no_recipient_device', 'The recipient has no registered device.')
    return {
      status: 200,
      body: {
        address: recipient.address,
        identityKey: recipient.identity_key,
        registrationId: recipient.registration_id,
        signedPreKey: bundle.signedPreKey,
        ...(bundle.preKey && { preKey: bundle.preKey }),
        ...(bundle.pqPreKey && { pqPreKey: bundle.pqPreKey }),
      },
    }
  },
} satisfies Partial<Handlers>
