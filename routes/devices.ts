import { ApiError } from '../lib/api-error.js'
import { isUsableSigningKey } from '../lib/request-signing.js'
import { isUniqueViolation } from '../db/connection.js'
import type { Handlers } from '../lib/handlers.js'
import { checkPreKeyBatch, checkSignatures, pqSignedKeys } from './keys.js'
import { callerDevice } from './common.js'

const deviceExists = () => new ApiError(403, 'device_exists', 'This user already has a device.')

export const devices = {
  async createDevice(request) {
    const { db, config } = request.server
    const body = request.body
    // The cheap refusal first: up to ~100 signature checks follow.
    if (await db.devices.findByUser(request.user.id)) throw deviceExists()
    checkPreKeyBatch(body.preKeys, 0, config.maxPrekeys)
    checkPreKeyBatch(body.pqPreKeys ?? [], 0, config.maxPrekeys)
    checkSignatures(body.identityKey, [['body.signedPreKey', body.signedPreKey], ...pqSignedKeys('body', body)])
    if (body.signingKey !== undefined && !isUsableSigningKey(body.signingKey)) {
      throw new ApiError(400, 'invalid_data', 'The request is invalid.', [
        { field: 'body.signingKey', message: 'is not an Ed25519 public key' },
      ])
    }
    try {
      await db.knex.transaction((trx) => db.devices.create(request.user.id, body, trx))
    } catch (err) {
      // A concurrent registration for the same user: the unique user_id decides.
      if (isUniqueViolation(err)) throw deviceExists()
      throw err
    }
    return { status: 201, body: { code: 'device_created', message: 'Device created.' } }
  },

  async deleteDevice(request) {
    const { db } = request.server
    const device = await callerDevice(request)
    if (!device) throw new ApiError(404, 'no_device', 'You have no registered device.')
    await db.devices.delete(device.id)
    // The device's socket, on whichever instance, closes now.
    await request.server.bus.publish({ type: 'account', userId: request.user.id })
    return { status: 204 }
  },
} satisfies Partial<Handlers>
