import type { Knex } from 'knex'

export function sessionsRepository(knex: Knex) {
  return {
    create: (id: string, userId: number, expiresAt: number, trx: Knex | Knex.Transaction = knex) =>
      trx('sessions').insert({ id, user_id: userId, created_at: Date.now(), expires_at: expiresAt }),

    /** The live session's user, or undefined when it was revoked or has expired. */
    async activeUserId(id: string, trx: Knex | Knex.Transaction = knex): Promise<number | undefined> {
      const row = await trx('sessions').select('user_id').where({ id }).andWhere('expires_at', '>', Date.now()).first()
      return row?.user_id
    },

    delete: (id: string, trx: Knex | Knex.Transaction = knex) => trx('sessions').where({ id }).delete(),

    deleteAllOf: (userId: number, exceptId?: string, trx: Knex | Knex.Transaction = knex) => {
      const q = trx('sessions').where({ user_id: userId })
      return (exceptId ? q.whereNot({ id: exceptId }) : q).delete()
    },
  }
}
