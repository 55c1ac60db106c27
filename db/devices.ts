import type { KyberPreKey, PreKey, SignedPreKey } from '../lib/key-checks.js'
import { insertedId, isPostgres, type Queryable, rowsOf } from './dialect.js'

export type DeviceRow = {
  id: number
  user_id: number
  address: string
  identity_key: string
  registration_id: number
  created_at: number
  signing_key: string | null
}
export type NewDevice = {
  address: string
  identityKey: string
  registrationId: number
  preKeys: PreKey[]
  signedPreKey: SignedPreKey
  pqPreKeys?: KyberPreKey[]
  pqLastResortPreKey?: KyberPreKey
  signingKey?: string
}

export function devicesRepository(q: Queryable) {
  return {
    findByUser: (userId: number): Promise<DeviceRow | undefined> =>
      q<DeviceRow>('devices').where({ user_id: userId }).first(),

    /** The user with that email and its device (undefined: none), in one round trip; undefined for no such user. */
    async findByEmail(email: string): Promise<{ userId: number; device: DeviceRow | undefined } | undefined> {
      const row = await q('users')
        .leftJoin('devices', 'devices.user_id', 'users.id')
        .select({ account_id: 'users.id' }, 'devices.*')
        .where('users.email', email.toLowerCase())
        .first()
      if (!row) return undefined
      const { account_id: userId, ...device } = row
      return { userId, device: device.id === null ? undefined : (device as DeviceRow) }
    },

    /** Inserts the device row; its keys go in with the keys repository, in the same transaction. */
    async insert(userId: number, d: NewDevice): Promise<number> {
      const [inserted] = await q('devices')
        .insert({
          user_id: userId,
          address: d.address,
          identity_key: d.identityKey,
          registration_id: d.registrationId,
          signing_key: d.signingKey ?? null,
          created_at: Date.now(),
        })
        .returning('id')
      return insertedId(inserted)
    },

    /** Records a signed request's counter if it is above the last one for that key; false for a replay. */
    async advanceSigningCounter(signingKey: string, counter: number): Promise<boolean> {
      const sql = `INSERT INTO signing_counters (signing_key, counter) VALUES (?, ?)
        ON CONFLICT (signing_key) DO UPDATE SET counter = excluded.counter
        WHERE signing_counters.counter < excluded.counter
        RETURNING counter`
      const result = await q.raw(sql, [signingKey, counter])
      return rowsOf(result).length === 1
    },

    /** Keys and queued messages go with it through ON DELETE CASCADE. */
    delete: (id: number) => q('devices').where({ id }).delete(),

    /**
     * Takes a row lock on the device for the rest of the transaction (PostgreSQL): `update` so that
     * concurrent prekey uploads for one device are counted one after the other, `share` so that a
     * bundle claim and a deletion of the device do not interleave. SQLite runs one write
     * transaction at a time already. False when the device is gone.
     */
    async lock(id: number, mode: 'update' | 'share' = 'update'): Promise<boolean> {
      const query = q('devices').select('id').where({ id })
      const row = await (isPostgres(q) ? (mode === 'share' ? query.forShare() : query.forUpdate()) : query).first()
      return row !== undefined
    },
  }
}
