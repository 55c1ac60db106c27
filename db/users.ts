import type { Knex } from 'knex'

export type UserRow = {
  id: number
  email: string
  password_hash: string
  password_changed_at: number
  created_at: number
}

export function usersRepository(knex: Knex) {
  return {
    findByEmail: (email: string, trx: Knex | Knex.Transaction = knex): Promise<UserRow | undefined> =>
      trx<UserRow>('users').where({ email: email.toLowerCase() }).first(),

    findById: (id: number, trx: Knex | Knex.Transaction = knex): Promise<UserRow | undefined> =>
      trx<UserRow>('users').where({ id }).first(),

    async create(email: string, passwordHash: string, trx: Knex | Knex.Transaction = knex): Promise<UserRow> {
      const now = Date.now()
      const row = { email: email.toLowerCase(), password_hash: passwordHash, password_changed_at: now, created_at: now }
      const [inserted] = await trx('users').insert(row).returning('id')
      return { id: Number(typeof inserted === 'object' ? inserted.id : inserted), ...row }
    },

    setPassword: (id: number, passwordHash: string, trx: Knex | Knex.Transaction = knex) =>
      trx('users').where({ id }).update({ password_hash: passwordHash, password_changed_at: Date.now() }),

    /** Everything the user owns goes with it through ON DELETE CASCADE. */
    delete: (id: number, trx: Knex | Knex.Transaction = knex) => trx('users').where({ id }).delete(),
  }
}
