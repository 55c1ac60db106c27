import type { Queryable } from './dialect.js'
import { DEVICE_COLUMNS, type DeviceRow, devicesOf } from './devices.js'
import { prepare, run } from './driver.js'

// Every authenticated request reads its session: prepared statements (db/driver.ts), read afresh
// each time, so that a revoked session is refused at once.
const ACTIVE = prepare(`SELECT s.user_id, s.device_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = ? AND s.expires_at > ?`)
const ACTIVE_WITH_DEVICES = prepare(
  `SELECT s.user_id, s.device_id, u.email, ${DEVICE_COLUMNS}
  FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN devices d ON d.user_id = s.user_id
  WHERE s.id = ? AND s.expires_at > ? ORDER BY d.device_id`,
  { arrays: true },
)

/** A live session: its account, the account's email, and the device (row key) it is bound to, if any. */
export type ActiveSession = { userId: number; email: string; boundDeviceId: number | null }

export function sessionsRepository(q: Queryable) {
  return {
    /** `deviceId` (a device row's key) binds the session to that device: it ends when the device goes. */
    create: (id: string, userId: number, expiresAt: number, deviceId: number | null = null) =>
      q('sessions').insert({ id, user_id: userId, device_id: deviceId, created_at: Date.now(), expires_at: expiresAt }),

    /** The live session, or undefined when it was revoked or has expired. */
    async active(id: string): Promise<ActiveSession | undefined> {
      type Row = { user_id: number; device_id: number | null; email: string }
      const [row] = (await run<Row>(q, ACTIVE, [id, Date.now()])).rows
      return row && { userId: row.user_id, email: row.email, boundDeviceId: row.device_id ?? null }
    },

    /**
     * The live session with its account's devices (by number), in one round trip: operations that
     * act for a device need both on every request.
     */
    async activeWithDevices(id: string): Promise<(ActiveSession & { devices: DeviceRow[] }) | undefined> {
      const { rows } = await run<unknown[]>(q, ACTIVE_WITH_DEVICES, [id, Date.now()])
      if (!rows.length) return undefined
      const [userId, bound, email] = rows[0] as [number, number | null, string]
      return { userId, email, boundDeviceId: bound ?? null, devices: devicesOf(rows, 3) }
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
