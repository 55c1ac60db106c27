import type { Queryable } from './dialect.js'
import { type DeviceRow, devicesOf } from './devices.js'

/** A live session: its account, the account's email, and the device (row key) it is bound to, if any. */
export type ActiveSession = { userId: number; email: string; boundDeviceId: number | null }

export function sessionsRepository(q: Queryable) {
  const live = (id: string) =>
    q('sessions')
      .join('users', 'users.id', 'sessions.user_id')
      .where('sessions.id', id)
      .andWhere('sessions.expires_at', '>', Date.now())

  return {
    /** `deviceId` (a device row's key) binds the session to that device: it ends when the device goes. */
    create: (id: string, userId: number, expiresAt: number, deviceId: number | null = null) =>
      q('sessions').insert({ id, user_id: userId, device_id: deviceId, created_at: Date.now(), expires_at: expiresAt }),

    /** The live session, or undefined when it was revoked or has expired. */
    async active(id: string): Promise<ActiveSession | undefined> {
      const row = await live(id).first('sessions.user_id', 'sessions.device_id', 'users.email')
      return row && { userId: row.user_id, email: row.email, boundDeviceId: row.device_id ?? null }
    },

    /**
     * The live session with its account's devices (by number), in one round trip: operations that
     * act for a device need both on every request.
     */
    async activeWithDevices(id: string): Promise<(ActiveSession & { devices: DeviceRow[] }) | undefined> {
      const rows = await live(id)
        .leftJoin('devices', 'devices.user_id', 'sessions.user_id')
        .select(
          {
            session_user_id: 'sessions.user_id',
            session_device_id: 'sessions.device_id',
            account_email: 'users.email',
          },
          'devices.*',
        )
        .orderBy('devices.device_id')
      if (!rows.length) return undefined
      const { session_user_id: userId, session_device_id: bound, account_email: email } = rows[0]
      const devices = devicesOf(rows, ['session_user_id', 'session_device_id', 'account_email'])
      return { userId, email, boundDeviceId: bound ?? null, devices }
    },

    delete: (id: string) => q('sessions').where({ id }).delete(),

    /** Deletes the sessions that expired at or before `now` (ms), which `active` already refuses; how many went. */
    purgeExpired: (now: number): Promise<number> => q('sessions').where('expires_at', '<=', now).delete(),

    deleteAllOf: (userId: number, exceptId?: string) => {
      const query = q('sessions').where({ user_id: userId })
      return (exceptId ? query.whereNot({ id: exceptId }) : query).delete()
    },
  }
}
