import { timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { DeviceRow } from '../db/devices.js'
import { isUniqueViolation } from '../db/dialect.js'
import type { TransactionRepositories } from '../db/index.js'
import type { OneTimeKind } from '../db/keys.js'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import {
  assertRecipientEmail,
  checkPreKeyBatch,
  checkSignatures,
  type KyberPreKey,
  type PreKey,
  pqSignedKeys,
} from '../lib/key-checks.js'
import { parseRate } from '../lib/rate.js'
import { keyDigest } from '../sdk/key-digest.js'

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
    await db.transaction(async (tx) => {
      if (!(await tx.devices.lock(device.id))) throw errors.noDevice()
      checkPreKeyBatch(batch, await tx.keys.countOneTime(kind, device.id), config.maxPrekeys)
      const ids = batch.map((k) => k.keyId)
      const [taken] = batch.length ? await tx.keys.existingKeyIds(kind, device.id, ids) : []
      if (taken !== undefined) throw errors.prekeyIdExists(taken)
      if (batch.length) await tx.keys.insertOneTime(kind, device.id, batch as KyberPreKey[])
      if (lastResort) await tx.keys.replaceLastResort(device.id, lastResort)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.prekeyIdExists()
    throw err
  }
}

/**
 * The devices (row keys) among `deviceIds` that have handed out PREKEY_CLAIM_LIMIT bundles in the
 * window, counting this claim, whoever asks. Counted before the claim's transaction, each in one
 * statement: concurrent claims get their own numbers and never wait on each other or on a removal.
 */
async function overClaimLimit(request: FastifyRequest, deviceIds: number[]): Promise<Set<number>> {
  const limit = parseRate(request.server.config.prekeyClaimLimit)
  const over = new Set<number>()
  if (limit === null) return over
  for (const id of deviceIds)
    if ((await request.server.db.keys.countClaim(id, Date.now(), limit.windowMs)) > limit.max) over.add(id)
  return over
}

/**
 * Claims one device's bundle in a transaction that holds the device's lock; undefined without a
 * signed prekey. `limited` (past PREKEY_CLAIM_LIMIT): no one-time keys. Senders can still start a
 * session (signed prekey, last-resort Kyber key), and no crowd of requesters can use up the
 * device's one-time keys.
 */
async function claimBundle(request: FastifyRequest, tx: TransactionRepositories, device: DeviceRow, limited: boolean) {
  const signedPreKey = await tx.keys.getSignedPreKey(device.id)
  if (!signedPreKey) return undefined
  if (limited) request.server.metrics.bundleLimited()
  const preKey = limited ? undefined : await tx.keys.claimOneTime('ec', device.id)
  const oneTimePq = limited ? undefined : await tx.keys.claimOneTime('pq', device.id)
  const lastResort = oneTimePq ? undefined : await tx.keys.getLastResort(device.id)
  const pqPreKey = oneTimePq ? { ...oneTimePq, lastResort: false } : lastResort && { ...lastResort, lastResort: true }
  return {
    deviceId: device.device_id,
    registrationId: device.registration_id,
    address: device.address,
    identityKey: device.identity_key,
    signedPreKey,
    ...(preKey && { preKey }),
    ...(pqPreKey && { pqPreKey }),
  }
}

export const keys = {
  async getPreKeyCount(request) {
    const { db } = request.server
    const device = await request.caller.ownDevice(request.params.registrationId)
    const [count, pqCount] = await Promise.all([
      db.keys.countOneTime('ec', device.id),
      db.keys.countOneTime('pq', device.id),
    ])
    return { status: 200, body: { count, pqCount } }
  },

  async uploadPreKeys(request) {
    const device = await request.caller.ownDevice(request.params.registrationId)
    await storeOneTime(request, device, 'ec', request.body)
    return { status: 200, body: { code: 'prekeys_stored', message: 'Prekeys stored.' } }
  },

  async uploadPqPreKeys(request) {
    const device = await request.caller.ownDevice(request.params.registrationId)
    const body = request.body
    if (!body.pqPreKeys.length && !body.pqLastResortPreKey) {
      throw errors.invalidField(
        'body.pqPreKeys',
        'must not be empty without pqLastResortPreKey',
        'Send at least one Kyber prekey.',
      )
    }
    checkSignatures(device.identity_key, pqSignedKeys('body', body))
    await storeOneTime(request, device, 'pq', body.pqPreKeys, body.pqLastResortPreKey)
    return { status: 200, body: { code: 'pq_prekeys_stored', message: 'Kyber prekeys stored.' } }
  },

  async replaceSignedPreKey(request) {
    const { db } = request.server
    const device = await request.caller.ownDevice(request.params.registrationId)
    checkSignatures(device.identity_key, [['body', request.body]])
    await db.keys.replaceSignedPreKey(device.id, request.body)
    return { status: 200, body: { code: 'signed_prekey_stored', message: 'Signed prekey stored.' } }
  },

  async checkKeys(request) {
    const { db } = request.server
    const device = await request.caller.ownDevice(request.params.registrationId)
    const [signedPreKey, lastResort] = await Promise.all([
      db.keys.getSignedPreKey(device.id),
      db.keys.getLastResort(device.id),
    ])
    if (!signedPreKey) throw errors.noDevice()
    const ours = Buffer.from(await keyDigest(device.identity_key, signedPreKey, lastResort), 'base64')
    const theirs = Buffer.from(request.body.digest, 'base64') // 32 bytes: the schema's pattern
    if (!timingSafeEqual(ours, theirs)) throw errors.keysMismatch()
    return { status: 200, body: { code: 'keys_match', message: 'The server holds the same keys.' } }
  },

  async getPreKeyBundle(request) {
    const { db } = request.server
    const { recipientEmail, registrationId } = request.params
    assertRecipientEmail(recipientEmail)
    await request.caller.ownDevice(registrationId)
    const account = await db.devices.accountByEmail(recipientEmail)
    if (!account) throw errors.noRecipient()
    // The seed's clients know one device per account: the lowest-numbered.
    const device = account.devices[0]
    if (!device) throw errors.noRecipientDevice()
    const limited = (await overClaimLimit(request, [device.id])).has(device.id)
    const bundle = await db.transaction(async (tx) => {
      // Held until commit: a deletion of the device waits for this claim, or this claim sees it gone.
      if (!(await tx.devices.lock(device.id, 'share'))) return undefined
      return claimBundle(request, tx, device, limited)
    })
    // A device deleted between the lookup and the claim.
    if (!bundle) throw errors.noRecipientDevice()
    const { deviceId: _, ...legacy } = bundle
    return { status: 200, body: legacy }
  },

  async getDeviceKeys(request) {
    const { db } = request.server
    const { recipientEmail, deviceId } = request.params
    assertRecipientEmail(recipientEmail)
    const account = await db.devices.accountByEmail(recipientEmail)
    if (!account) throw errors.noRecipient()
    const wanted = deviceId === '*' ? undefined : Number(deviceId)
    const asked = (d: DeviceRow) =>
      wanted === undefined ? d.id !== request.caller.boundDeviceId : d.device_id === wanted
    const limited = await overClaimLimit(
      request,
      account.devices.filter(asked).map((d) => d.id),
    )
    const bundles = await db.transaction(async (tx) => {
      // Every device asked for, locked as one claim locks one; then each claim in turn.
      // `*` leaves out the caller's own device: its keys are no use to it, and would be used up.
      const devices = (await tx.devices.lockAccount(account.userId, 'share')).filter(asked)
      const claimed = []
      for (const device of devices) {
        // A device added since the count above is not limited for this one claim.
        const bundle = await claimBundle(request, tx, device, limited.has(device.id))
        if (bundle) claimed.push(bundle)
      }
      return claimed
    })
    if (!bundles.length) throw errors.noRecipientDevice()
    return { status: 200, body: { devices: bundles } }
  },
} satisfies Partial<Handlers>
