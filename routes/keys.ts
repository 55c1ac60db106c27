import { ApiError } from '../lib/api-error.js'
import { isValidEmail } from '../lib/email.js'
import { isUniqueViolation } from '../db/connection.js'
import type { Handlers } from '../lib/handlers.js'
import type { PreKey } from '../db/devices.js'
import { ownDevice } from './common.js'

const idExists = (keyId: number) => new ApiError(400, 'prekey_id_exists', `A prekey with keyId ${keyId} already exists.`)

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

export function assertRecipientEmail(email: string): void {
  if (!isValidEmail(email)) throw new ApiError(400, 'invalid_recipient_email', 'The recipient email is not a valid email address.')
}

export const keys = {
  async uploadPreKeys(request) {
    const { db, config } = request.server
    const device = await ownDevice(request, request.params.registrationId)
    const batch = request.body
    try {
      await db.knex.transaction(async (trx) => {
        // All or nothing, and counted under the device's lock so racing uploads cannot overshoot.
        if (!(await db.devices.lock(device.id, trx))) throw new ApiError(404, 'no_device', 'You have no registered device.')
        checkPreKeyBatch(batch, await db.keys.countPreKeys(device.id, trx), config.maxPrekeys)
        const [taken] = await db.keys.existingKeyIds(device.id, batch.map((k) => k.keyId), trx)
        if (taken !== undefined) throw idExists(taken)
        await db.keys.insertPreKeys(device.id, batch, trx)
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError(400, 'prekey_id_exists', 'A prekey with one of these keyIds already exists.')
      throw err
    }
    return { status: 200, body: { code: 'prekeys_stored', message: 'Prekeys stored.' } }
  },

  async replaceSignedPreKey(request) {
    const { db } = request.server
    const device = await ownDevice(request, request.params.registrationId)
    await db.keys.replaceSignedPreKey(device.id, request.body)
    return { status: 200, body: { code: 'signed_prekey_stored', message: 'Signed prekey stored.' } }
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
      const signedPreKey = await db.keys.getSignedPreKey(recipient.id, trx)
      const preKey = await db.keys.claimPreKey(recipient.id, trx)
      return { signedPreKey, preKey }
    })
    if (!bundle.signedPreKey) throw new ApiError(404, 'no_recipient_device', 'The recipient has no registered device.')
    return {
      status: 200,
      body: {
        address: recipient.address,
        identityKey: recipient.identity_key,
        registrationId: recipient.registration_id,
        signedPreKey: bundle.signedPreKey,
        ...(bundle.preKey && { preKey: bundle.preKey }),
      },
    }
  },
} satisfies Partial<Handlers>
