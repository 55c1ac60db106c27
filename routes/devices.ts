import { isUniqueViolation } from '../db/dialect.js'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { checkPreKeyBatch, checkSignatures, pqSignedKeys } from '../lib/key-checks.js'
import { isUsableSigningKey } from '../lib/request-signing.js'

export const devices = {
  async createDevice(request) {
    const { db, config } = request.server
    const { userId } = request.caller
    const body = request.body
    // The cheap refusal first: up to ~100 signature checks follow.
    if (await request.caller.device()) throw errors.deviceExists()
    checkPreKeyBatch(body.preKeys, 0, config.maxPrekeys)
    checkPreKeyBatch(body.pqPreKeys ?? [], 0, config.maxPrekeys)
    checkSignatures(body.identityKey, [['body.signedPreKey', body.signedPreKey], ...pqSignedKeys('body', body)])
    if (body.signingKey !== undefined && !isUsableSigningKey(body.signingKey)) {
      throw errors.invalidField('body.signingKey', 'is not an Ed25519 public key')
    }
    try {
      await db.transaction(async (tx) => {
        const deviceId = await tx.devices.insert(userId, body)
        await tx.keys.replaceSignedPreKey(deviceId, body.signedPreKey)
        if (body.preKeys.length) await tx.keys.insertOneTime('ec', deviceId, body.preKeys)
        if (body.pqPreKeys?.length) await tx.keys.insertOneTime('pq', deviceId, body.pqPreKeys)
        if (body.pqLastResortPreKey) await tx.keys.replaceLastResort(deviceId, body.pqLastResortPreKey)
      })
    } catch (err) {
      // A concurrent registration for the same user: the unique user_id decides.
      if (isUniqueViolation(err)) throw errors.deviceExists()
      throw err
    }
    return { status: 201, body: { code: 'device_created', message: 'Device created.' } }
  },

  async deleteDevice(request) {
    const device = await request.caller.device()
    if (!device) throw errors.noDevice()
    await request.server.db.devices.delete(device.id)
    // The device's socket, on whichever instance, closes now.
    await request.server.bus.publish({ type: 'account', userId: request.caller.userId })
    return { status: 204 }
  },
} satisfies Partial<Handlers>
