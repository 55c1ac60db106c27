import { insertedId, type Queryable } from './dialect.js'

export type UserRow = {
  id: number
  email: string
  password_hash: string
  password_changed_at: number
  created_at: number
}

export function usersRepository(q: Queryable) {
  return {
    findByEmail: (email: string): Promise<UserRow | undefined> =>
      q<UserRow>('users').where({ email: email.toLowerCase() }).first(),

    findById: (id: number): Promise<UserRow | undefined> => q<UserRow>('users').where({ id }).first(),

    async create(email: string, passwordHash: string): Promise<UserRow> {
      const now = Date.now()
      const row = { email: email.toLowerCase(), password_hash: passwordHash, password_changed_at: now, created_at: now }
      const [inserted] = await q('users').insert(row).returning('id')
      return { id: insertedId(inserted), ...row }
    },

    setPassword: (id: number, passwordHash: string) =>
      q('users').where({ id }).update({ password_hash: passwordHash, password_changed_at: Date.now() }),

    /** Everything the user owns goes with it through ON DELETE CASCADE. */
    delete: (id: number) => q('users').where({ id }).delete(),
  }
}
