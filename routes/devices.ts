import type { FastifyRequest } from 'fastify'
import type { DeviceRow, NewDevice } from '../db/devices.js'
import { isUniqueViolation } from '../db/dialect.js'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { checkPreKeyBatch, checkSignatures, pqSignedKeys } from '../lib/key-checks.js'
import { isUsableSigningKey } from '../lib/request-signing.js'

/**
 * Stores a new device of the caller's account with its keys, all or nothing. `first`: only as the
 * account's first device (POST /device/). The account's row is locked while the device count and
 * registration IDs are checked, so racing registrations never pass MAX_DEVICES.
 */
async function register(request: FastifyRequest, body: NewDevice, first: boolean): Promise<DeviceRow> {
  const { db, config } = request.server
  const { userId } = request.caller
  // The cheap refusals first: up to ~200 signature checks follow.
  const existing = await request.caller.devices()
  if (first && existing.length) throw errors.deviceExists()
  if (existing.length >= config.maxDevices) throw errors.tooManyDevices(config.maxDevices)
  if (existing.some((d) => d.registration_id === body.registrationId)) throw errors.registrationIdInUse()
  checkPreKeyBatch(body.preKeys, 0, config.maxPrekeys)
  checkPreKeyBatch(body.pqPreKeys ?? [], 0, config.maxPrekeys)
  checkSignatures(body.identityKey, [['body.signedPreKey', body.signedPreKey], ...pqSignedKeys('body', body)])
  if (body.signingKey !== undefined && !isUsableSigningKey(body.signingKey)) {
    throw errors.invalidField('body.signingKey', 'is not an Ed25519 public key')
  }
  try {
    return await db.transaction(async (tx) => {
      const number = await tx.devices.nextNumber(userId)
      const now = await tx.devices.listByUser(userId)
      if (first && now.length) throw errors.deviceExists()
      if (now.length >= config.maxDevices) throw errors.tooManyDevices(config.maxDevices)
      if (now.some((d) => d.registration_id === body.registrationId)) throw errors.registrationIdInUse()
      const device = (await tx.devices.findById(await tx.devices.insert(userId, body, number)))!
      await tx.keys.replaceSignedPreKey(device.id, body.signedPreKey)
      if (body.preKeys.length) await tx.keys.insertOneTime('ec', device.id, body.preKeys)
      if (body.pqPreKeys?.length) await tx.keys.insertOneTime('pq', device.id, body.pqPreKeys)
      if (body.pqLastResortPreKey) await tx.keys.replaceLastResort(device.id, body.pqLastResortPreKey)
      return device
    })
  } catch (err) {
    // The unique (account, registration ID) index decides a race the checks above did not see.
    if (isUniqueViolation(err)) throw first ? errors.deviceExists() : errors.registrationIdInUse()
    throw err
  }
}

/** Tells the account's owner and its other devices; the device is stored whatever happens here. */
async function announceAdded(request: FastifyRequest, device: DeviceRow) {
  const { mailer, bus, config, log } = request.server
  await bus.publish({ type: 'devices', userId: device.user_id })
  const when = new Date(device.created_at).toUTCString()
  const name = device.name === null ? 'without a name' : `named "${device.name}"`
  try {
    await mailer.send({
      to: request.caller.email,
      subject: `${config.applicationName}: a new device was added to your account`,
      text:
        `A new device (number ${device.device_id}, ${name}) was added to your account on ${when}.\n\n` +
        'If this was not you, change your password now and remove the device from your account.\n',
    })
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'the new-device notice could not be mailed')
  }
}

/** Removes the device with its keys, queue and bound sessions; closes its socket and tells the others. */
async function remove(request: FastifyRequest, device: DeviceRow) {
  const { db, bus } = request.server
  if (!(await db.devices.delete(device.id))) throw errors.noDevice()
  // Its socket, on whichever instance, closes now; the account's other sockets hear of it.
  await bus.publish({ type: 'devices', userId: device.user_id })
}

const toDevice = (d: DeviceRow) => ({
  deviceId: d.device_id,
  registrationId: d.registration_id,
  name: d.name,
  created: new Date(d.created_at).toISOString(),
  lastSeen: new Date(d.last_seen_at).toISOString(),
})

export const devices = {
  async createDevice(request) {
    const device = await register(request, request.body, true)
    // A first registration is the sign-up itself; a device registered after others were removed is news.
    if (device.device_id > 1) await announceAdded(request, device)
    return { status: 201, body: { code: 'device_created', message: 'Device created.', deviceId: device.device_id } }
  },

  async deleteDevice(request) {
    const { caller } = request
    const all = await caller.devices()
    if (caller.boundDeviceId === null && all.length > 1) throw errors.severalDevices()
    const device = caller.boundDeviceId === null ? all[0] : all.find((d) => d.id === caller.boundDeviceId)
    if (!device) throw errors.noDevice()
    await remove(request, device)
    return { status: 204 }
  },

  async addDevice(request) {
    const device = await register(request, request.body, false)
    const token = await request.server.auth.issueToken(request.caller.userId, device.id)
    await announceAdded(request, device)
    return { status: 201, body: { deviceId: device.device_id, auth_token: token } }
  },

  async listDevices(request) {
    const all = await request.caller.devices()
    return { status: 200, body: { devices: all.map(toDevice) } }
  },

  async removeDevice(request) {
    const { db, lockout } = request.server
    const { caller } = request
    const device = (await caller.devices()).find((d) => d.device_id === request.params.deviceId)
    // A device removing itself needs no password: its token already acts for it alone.
    if (device === undefined || device.id !== caller.boundDeviceId) {
      const password = request.body?.currentPassword
      const user = await db.users.findById(caller.userId)
      const ok = password !== undefined && user !== undefined && (await lockout.checkPassword(user, password))
      if (!ok) throw errors.invalidPassword()
    }
    if (!device) throw errors.noDevice()
    await remove(request, device)
    return { status: 204 }
  },
} satisfies Partial<Handlers>
