import type { FastifyRequest } from 'fastify'
import { ApiError } from '../lib/api-error.js'
import { validatePassword } from '../lib/password-policy.js'
import type { DeviceRow } from '../db/devices.js'
import type { MessageRow } from '../db/messages.js'
import type { Schemas } from '../lib/handlers.js'

/** Throws 400 `invalid_data` naming each password rule the new password breaks. */
export function assertPasswordAllowed(password: string, email: string, field: string): void {
  const problems = validatePassword(password, email)
  if (problems.length) {
    throw new ApiError(
      400,
      'invalid_data',
      'The password is not allowed.',
      problems.map((p) => ({ field: `body.${field}`, message: p.message })),
    )
  }
}

/** The caller's device, if any; already loaded by the signature check for `x-device-signed` operations. */
export async function callerDevice(request: FastifyRequest): Promise<DeviceRow | null | undefined> {
  return request.device !== undefined ? request.device : request.server.db.devices.findByUser(request.user.id)
}

/**
 * The caller's device, checked against the registration ID in the path: 404 `no_device` without
 * one, 403 `device_changed` when the path names another.
 */

export async function ownDevice(request: FastifyRequest, registrationId: number): Promise<DeviceRow> {
  const device = await callerDevice(request)
  if (!device) throw new ApiError(404, 'no_device', 'You have no registered device.')
  if (device.registration_id !== registrationId)
    throw new ApiError(403, 'device_changed', 'The registration ID does not match your device.')
  return device
}

/** Messages created at or before this instant (ms) have expired (MESSAGE_TTL). */
export const expiryCutoff = (config: { messageTtl: number }, now = Date.now()) => now - config.messageTtl * 1000

export function toMessage(row: MessageRow): Schemas['Message'] {
  return {
    id: row.id,
    senderAddress: row.sender_address,
    senderRegistrationId: row.sender_registration_id,
    recipientAddress: row.recipient_address,
    content: row.content,
    created: new Date(row.created_at).toISOString(),
  }
}
