import type { FastifyRequest } from 'fastify'
import type { DeviceRow } from '../db/devices.js'
import type { TransactionRepositories } from '../db/index.js'
import { type MessageRow, type NewMessage, toMessage } from '../db/messages.js'
import type { Sender } from '../db/sends.js'
import type { Config } from '../lib/config.js'
import { errors } from '../lib/errors.js'
import { expiryCutoff } from '../lib/expiry.js'
import type { Handlers } from '../lib/handlers.js'
import { assertRecipientEmail } from '../lib/key-checks.js'

/** The registration ID the sender encrypted for, from the client's serialized ciphertext. */
function targetRegistrationId(message: string): number {
  let parsed: unknown
  try {
    parsed = JSON.parse(message)
  } catch {
    parsed = undefined
  }
  const id = (parsed as { registrationId?: unknown } | undefined)?.registrationId
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Number.isInteger(id)) {
    throw errors.invalidMessage()
  }
  return id as number
}

/** Queues one message: undefined when the device's queue is full even after a purge, or the device is gone. */
async function queueOne(tx: TransactionRepositories, config: Config, m: NewMessage): Promise<MessageRow | undefined> {
  const row = await tx.messages.insertBounded(m, config.maxQueuedMessages)
  if (row) return row
  // A full queue may still hold messages that expired since the last purge: make room once.
  if (await tx.messages.purgeExpiredFor(m.recipient_device_id, expiryCutoff(config)))
    return tx.messages.insertBounded(m, config.maxQueuedMessages)
  return undefined
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The deviceIds of `want` missing from `have`, and those of `have` not in `want`. */
function difference(want: number[], have: number[]) {
  return { missing: want.filter((id) => !have.includes(id)), extra: have.filter((id) => !want.includes(id)) }
}

/** Who sent a message, as every message of one send records it. */
const senderOf = (device: DeviceRow, email: string, timestamp: number | null = null): Sender => ({
  sender_address: device.address,
  sender_registration_id: device.registration_id,
  sender_email: email,
  sender_device_id: device.device_id,
  sender_timestamp: timestamp,
})

/** A queued message's answer, once its event is out: a connected device (on any instance) reads the committed row. */
async function sent(request: FastifyRequest, row: MessageRow) {
  await request.server.bus.publish({ type: 'message', deviceId: row.recipient_device_id, messageId: row.id })
  return { status: 201 as const, body: toMessage(row) }
}

/**
 * A multi-device send's answer, once all its messages are committed: each device's socket, on any
 * instance, gets its message now. Published together: on PostgreSQL they go out in one NOTIFY
 * statement (plugins/bus.ts).
 */
async function sentAll(request: FastifyRequest, queued: { deviceId: number; deviceRowId: number; id: number }[]) {
  await Promise.all(
    queued.map((m) => request.server.bus.publish({ type: 'message', deviceId: m.deviceRowId, messageId: m.id })),
  )
  return { status: 200 as const, body: { messages: queued.map(({ deviceId, id }) => ({ deviceId, id })) } }
}

export const messages = {
  async sendMessage(request) {
    const { db, config } = request.server
    const { recipient, message } = request.body
    if (Buffer.byteLength(message, 'utf8') > config.maxMessageBytes) {
      throw errors.messageTooLarge(config.maxMessageBytes)
    }
    assertRecipientEmail(recipient)
    const sender = await request.caller.ownDevice(request.params.registrationId)
    const target = targetRegistrationId(message)
    const from = senderOf(sender, request.caller.email)
    // One statement when the device is there and has room; else the look-up below says why not.
    const fast = await db.sends.toDevice(recipient, target, message, from, config.maxQueuedMessages)
    if (fast) return sent(request, fast)
    const account = await db.devices.accountByEmail(recipient)
    if (!account) throw errors.noRecipient()
    if (!account.devices.length) throw errors.noRecipientDevice()
    // The device the sender encrypted for, among the recipient's.
    const device = account.devices.find((d) => d.registration_id === target)
    if (!device) throw errors.recipientIdentityChanged()
    const queued = { ...from, recipient_device_id: device.id, recipient_address: device.address, content: message }
    // The insert finds the device row itself, so a device deleted since the look-up is a refusal
    // here, never a foreign-key error.
    const row = await queueOne(db, config, queued)
    if (!row && (await db.messages.queueLength(device.id)) === undefined) throw errors.noRecipientDevice()
    if (!row) throw errors.recipientQueueFull(config.maxQueuedMessages)
    return sent(request, row)
  },

  async sendMessages(request) {
    const { db, config } = request.server
    const { caller } = request
    const { recipientEmail } = request.params
    const { messages: outgoing, timestamp } = request.body
    assertRecipientEmail(recipientEmail)
    if (caller.boundDeviceId === null) throw errors.deviceRequired()
    const sender = await caller.device()
    if (!sender) throw errors.notAuthenticated() // removed since the session was read
    const seen = new Set<number>()
    outgoing.forEach((m, i) => {
      if (seen.has(m.deviceId)) throw errors.invalidField(`body.messages[${i}].deviceId`, 'is repeated')
      // A lone surrogate would be stored altered (each engine its own way): the content must come back as sent.
      if (LONE_SURROGATE.test(m.content))
        throw errors.invalidField(`body.messages[${i}].content`, 'is not well-formed Unicode (a lone surrogate)')
      seen.add(m.deviceId)
      if (Buffer.byteLength(m.content, 'utf8') > config.maxMessageBytes)
        throw errors.messageTooLarge(config.maxMessageBytes)
    })
    const from = senderOf(sender, caller.email, timestamp ?? null)
    // One statement when the messages name exactly the account's devices and all have room; else
    // the transaction below says why not (409, 410, 404, 507) or makes room.
    const fast = await db.sends.toAccount(recipientEmail, sender.id, outgoing, from, config.maxQueuedMessages)
    if (fast)
      return sentAll(
        request,
        outgoing.map(({ deviceId }) => ({ deviceId, ...fast.get(deviceId)! })),
      )
    const account = await db.devices.accountByEmail(recipientEmail)
    if (!account) throw errors.noRecipient()
    const stored = await db.transaction(async (tx) => {
      // Locked until commit: a removal of one of these devices waits for this send, or this send
      // sees the device gone and refuses as a mismatch. Nothing is half-stored either way.
      const devices = (await tx.devices.lockAccount(account.userId, 'send')).filter((d) => d.id !== sender.id)
      if (!devices.length && account.userId !== caller.userId) throw errors.noRecipientDevice()
      const { missing, extra } = difference(
        devices.map((d) => d.device_id),
        outgoing.map((m) => m.deviceId),
      )
      if (missing.length || extra.length) throw errors.mismatchedDevices(missing, extra)
      const byNumber = new Map(devices.map((d) => [d.device_id, d]))
      const stale = outgoing.filter((m) => byNumber.get(m.deviceId)!.registration_id !== m.registrationId)
      if (stale.length) throw errors.staleDevices(stale.map((m) => m.deviceId))
      const queued = outgoing.map((m) => {
        const device = byNumber.get(m.deviceId)!
        const message: NewMessage = {
          ...from,
          recipient_device_id: device.id,
          recipient_address: device.address,
          content: m.content,
        }
        return { deviceId: m.deviceId, device, message }
      })
      // All in one statement; a device it found full gets the purge-and-retry of queueOne.
      const inserted = await tx.messages.insertBoundedMany(
        queued.map((x) => x.message),
        config.maxQueuedMessages,
      )
      const rows: { deviceId: number; device: DeviceRow; row: MessageRow }[] = []
      for (const { deviceId, device, message } of queued) {
        const row = inserted.get(device.id) ?? (await queueOne(tx, config, message))
        if (!row) throw errors.recipientQueueFull(config.maxQueuedMessages)
        rows.push({ deviceId, device, row })
      }
      return rows
    })
    return sentAll(
      request,
      stored.map(({ deviceId, device, row }) => ({ deviceId, deviceRowId: device.id, id: row.id })),
    )
  },

  async getMessages(request) {
    const device = await request.caller.ownDevice(request.params.registrationId)
    const rows = await request.server.db.messages.listFor(device.id, {
      createdAfter: expiryCutoff(request.server.config),
    })
    const withSender = request.caller.boundDeviceId !== null
    return { status: 200, body: rows.map((row) => toMessage(row, withSender)) }
  },

  async deleteMessages(request) {
    const device = await request.caller.ownDevice(request.params.registrationId)
    const ids = request.body
    const deleted = await request.server.db.messages.deleteFor(device.id, [...new Set(ids)])
    return {
      status: 200,
      body: ids.map((id) =>
        deleted.delete(id)
          ? ('message_deleted' as const)
          : { code: 'non-existant_message' as const, message: `Message ${id} does not exist.` },
      ),
    }
  },
} satisfies Partial<Handlers>
