import type { Knex } from 'knex'
import { keysRepository } from './keys.js'

export type DeviceRow = {
  id: number
  user_id: number
  address: string
  identity_key: string
  registration_id: number
  created_at: number
  signing_key: string | null
}
export type PreKey = { keyId: number; publicKey: string }
export type SignedPreKey = PreKey & { signature: string }
export type KyberPreKey = SignedPreKey
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

export function devicesRepository(knex: Knex) {
  return {
    findByUser: (userId: number, trx: Knex | Knex.Transaction = knex): Promise<DeviceRow | undefined> =>
      trx<DeviceRow>('devices').where({ user_id: userId }).first(),

    /** The device of the user with that email, in one round trip. */
    findByEmail: (
      email: string,
      trx: Knex | Knex.Transaction = knex,
    ): Promise<(DeviceRow & { email: string }) | undefined> =>
      trx('users')
        .leftJoin('devices', 'devices.user_id', 'users.id')
        .select('users.email', 'devices.*')
        .where('users.email', email.toLowerCase())
        .first(),

    /** Inserts the device with all its keys; the caller supplies the transaction. */
    async create(userId: number, d: NewDevice, trx: Knex.Transaction): Promise<number> {
      const [inserted] = await trx('devices')
        .insert({
          user_id: userId,
          address: d.address,
          identity_key: d.identityKey,
          registration_id: d.registrationId,
          signing_key: d.signingKey ?? null,
          created_at: Date.now(),
        })
        .returning('id')
      const deviceId = Number(typeof inserted === 'object' ? inserted.id : inserted)
      const keys = keysRepository(knex)
      await keys.replaceSignedPreKey(deviceId, d.signedPreKey, trx)
      if (d.preKeys.length) await keys.insertOneTime('ec', deviceId, d.preKeys, trx)
      if (d.pqPreKeys?.length) await keys.insertOneTime('pq', deviceId, d.pqPreKeys, trx)
      if (d.pqLastResortPreKey) await keys.replaceLastResort(deviceId, d.pqLastResortPreKey, trx)
      return deviceId
    },

    /** Records a signed request's counter if it is above the last one for that key; false for a replay. */
    async advanceSigningCounter(
      signingKey: string,
      counter: number,
      trx: Knex | Knex.Transaction = knex,
    ): Promise<boolean> {
      const sql = `INSERT INTO signing_counters (signing_key, counter) VALUES (?, ?)
        ON CONFLICT (signing_key) DO UPDATE SET counter = excluded.counter WHERE signing_counters.counter < excluded.counter
        RETURNING counter`
      const result = await trx.raw(sql, [signingKey, counter])
      return (trx.client.config.client === 'pg' ? result.rows : result).length === 1
    },

    /** Keys and queued messages go with it through ON DELETE CASCADE. */
    delete: (id: number, trx: Knex | Knex.Transaction = knex) => trx('devices').where({ id }).delete(),

    /**
     * Takes a row lock on the device for the rest of the transaction (PostgreSQL): `update` so that
     * concurrent prekey uploads for one device are counted one after the other, `share` so that a
     * bundle claim and a deletion of the device do not interleave. SQLite runs one write
     * transaction at a time already. False when the device is gone.
     */
    async lock(id: number, trx: Knex.Transaction, mode: 'update' | 'share' = 'update'): Promise<boolean> {
      const q = trx('devices').select('id').where({ id })
      const row = await (trx.client.config.client === 'pg'
        ? mode === 'share'
          ? q.forShare()
          : q.forUpdate()
        : q
      ).first()
      return row !== undefined
    },
  }
}
