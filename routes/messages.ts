import { toMessage } from '../db/messages.js'
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
    const account = await db.devices.findByEmail(recipient)
    if (!account) throw errors.noRecipient()
    const device = account.device
    if (!device) throw errors.noRecipientDevice()
    if (device.registration_id !== target) throw errors.recipientIdentityChanged()
    const queued = {
      recipient_device_id: device.id,
      sender_address: sender.address,
      sender_registration_id: sender.registration_id,
      recipient_address: device.address,
      content: message,
    }
    // The insert finds the device row itself, so a device deleted since the look-up is a refusal
    // here, never a foreign-key error.
    let row = await db.messages.insertBounded(queued, config.maxQueuedMessages)
    // Refused: the device is gone, or its queue is full. A full queue may still hold messages
    // that expired since the last purge: make room once.
    if (!row && (await db.messages.queueLength(device.id)) === undefined) throw errors.noRecipientDevice()
    if (!row && (await db.messages.purgeExpiredFor(device.id, expiryCutoff(config)))) {
      row = await db.messages.insertBounded(queued, config.maxQueuedMessages)
    }
    if (!row) throw errors.recipientQueueFull(config.maxQueuedMessages)
    // Committed: a connected device (on any instance) can read the row when the event reaches it.
    await request.server.bus.publish({ type: 'message', deviceId: device.id, messageId: row.id })
    return { status: 201, body: toMessage(row) }
  },

  async getMessages(request) {
    const device = await request.caller.ownDevice(request.params.registrationId)
    const rows = await request.server.db.messages.listFor(device.id, {
      createdAfter: expiryCutoff(request.server.config),
    })
    return { status: 200, body: rows.map(toMessage) }
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
