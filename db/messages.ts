import type { Knex } from 'knex'

export type MessageRow = {
  id: number
  recipient_device_id: number
  sender_address: string
  sender_registration_id: number
  recipient_address: string
  content: string
  created_at: number
}
export type NewMessage = Omit<MessageRow, 'id' | 'created_at'>

export function messagesRepository(knex: Knex) {
  return {
    async insert(m: NewMessage, trx: Knex | Knex.Transaction = knex): Promise<MessageRow> {
      const row = { ...m, created_at: Date.now() }
      const [inserted] = await trx('messages').insert(row).returning('id')
      return { id: Number(typeof inserted === 'object' ? inserted.id : inserted), ...row }
    },

    listFor: (deviceId: number, trx: Knex | Knex.Transaction = knex): Promise<MessageRow[]> =>
      trx<MessageRow>('messages').where({ recipient_device_id: deviceId }).orderBy('id'),

    /** Deletes those of `ids` queued for the device and returns the ids that were deleted. */
    async deleteFor(deviceId: number, ids: number[], trx: Knex | Knex.Transaction = knex): Promise<Set<number>> {
      // One statement, so two racing deletes of an id cannot both report it deleted.
      const sql = `DELETE FROM messages WHERE recipient_device_id = ? AND id IN (${ids.map(() => '?').join(', ')}) RETURNING id`
      const result = await trx.raw(sql, [deviceId, ...ids])
      const rows: { id: number }[] = Array.isArray(result) ? result : result.rows
      return new Set(rows.map((r) => Number(r.id)))
    },
  }
}
