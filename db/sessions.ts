import type { Queryable } from './dialect.js'
import type { DeviceRow } from './devices.js'

export function sessionsRepository(q: Queryable) {
  return {
    create: (id: string, userId: number, expiresAt: number) =>
      q('sessions').insert({ id, user_id: userId, created_at: Date.now(), expires_at: expiresAt }),

    /** The live session's user, or undefined when it was revoked or has expired. */
    async activeUserId(id: string): Promise<number | undefined> {
      const row = await q('sessions').select('user_id').where({ id }).andWhere('expires_at', '>', Date.now()).first()
      return row?.user_id
    },

    /**
     * The live session's user and that user's device (null: none), in one round trip: operations
     * that act for a device need both on every request.
     */
    async activeUserWithDevice(id: string): Promise<{ userId: number; device: DeviceRow | null } | undefined> {
      const row = await q('sessions')
        .leftJoin('devices', 'devices.user_id', 'sessions.user_id')
        .select({ session_user_id: 'sessions.user_id' }, 'devices.*')
        .where('sessions.id', id)
        .andWhere('sessions.expires_at', '>', Date.now())
        .first()
      if (!row) return undefined
      const { session_user_id: userId, ...device } = row
      return { userId, device: device.id === null || device.id === undefined ? null : (device as DeviceRow) }
    },

    delete: (id: string) => q('sessions').where({ id }).delete(),

    deleteAllOf: (userId: number, exceptId?: string) => {
      const query = q('sessions').where({ user_id: userId })
      return (exceptId ? query.whereNot({ id: exceptId }) : query).delete()
    },
  }
}
