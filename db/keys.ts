import type { Knex } from 'knex'
import type { PreKey, SignedPreKey } from './devices.js'

export function keysRepository(knex: Knex) {
  return {
    async countPreKeys(deviceId: number, trx: Knex | Knex.Transaction = knex): Promise<number> {
      const row = await trx('prekeys').where({ device_id: deviceId }).count({ n: '*' }).first()
      return Number(row?.n ?? 0)
    },

    async existingKeyIds(deviceId: number, keyIds: number[], trx: Knex | Knex.Transaction = knex): Promise<number[]> {
      const rows = await trx('prekeys').select('key_id').where({ device_id: deviceId }).whereIn('key_id', keyIds)
      return rows.map((r: { key_id: number }) => r.key_id)
    },

    insertPreKeys: (deviceId: number, keys: PreKey[], trx: Knex | Knex.Transaction = knex) =>
      trx.batchInsert('prekeys', keys.map((k) => ({ device_id: deviceId, key_id: k.keyId, public_key: k.publicKey })), 200),

    /**
     * Deletes and returns one one-time prekey of the device in a single statement. On PostgreSQL,
     * SKIP LOCKED lets concurrent claims each take a different row instead of queueing on one;
     * SQLite serialises writers, so the plain sub-select is already atomic there.
     */
    async claimPreKey(deviceId: number, trx: Knex | Knex.Transaction = knex): Promise<PreKey | undefined> {
      const pg = trx.client.config.client === 'pg'
      const sql = `DELETE FROM prekeys WHERE id = (SELECT id FROM prekeys WHERE device_id = ? ORDER BY key_id LIMIT 1${pg ? ' FOR UPDATE SKIP LOCKED' : ''}) RETURNING key_id, public_key`
      const result = await trx.raw(sql, [deviceId])
      const row = (pg ? result.rows : result)[0] as { key_id: number; public_key: string } | undefined
      return row && { keyId: row.key_id, publicKey: row.public_key }
    },

    async getSignedPreKey(deviceId: number, trx: Knex | Knex.Transaction = knex): Promise<SignedPreKey | undefined> {
      const row = await trx('signed_prekeys').where({ device_id: deviceId }).first()
      return row && { keyId: row.key_id, publicKey: row.public_key, signature: row.signature }
    },

    replaceSignedPreKey: (deviceId: number, k: SignedPreKey, trx: Knex | Knex.Transaction = knex) =>
      trx('signed_prekeys')
        .insert({ device_id: deviceId, key_id: k.keyId, public_key: k.publicKey, signature: k.signature })
        .onConflict('device_id')
        .merge(['key_id', 'public_key', 'signature']),
  }
}
