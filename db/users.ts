import { insertedId, type Queryable } from './dialect.js'

export type UserRow = {
  id: number
  email: string
  password_hash: string
  password_changed_at: number
  created_at: number
  /** False from sign-up until the mailed link is opened (EMAIL_VERIFICATION=on). */
  is_active: boolean
  /** A new email waiting for its link to be opened (EMAIL_VERIFICATION=on), or null. */
  pending_email: string | null
}

// SQLite answers booleans as 0 and 1.
const row = (found: UserRow | undefined): UserRow | undefined =>
  found && { ...found, is_active: Boolean(found.is_active) }

export function usersRepository(q: Queryable) {
  return {
    findByEmail: async (email: string): Promise<UserRow | undefined> =>
      row(await q<UserRow>('users').where({ email: email.toLowerCase() }).first()),

    findById: async (id: number): Promise<UserRow | undefined> => row(await q<UserRow>('users').where({ id }).first()),

    /** A new account; `active: false` until its mailed link is opened. */
    async create(email: string, passwordHash: string, active = true): Promise<UserRow> {
      const now = Date.now()
      const fields = {
        email: email.toLowerCase(),
        password_hash: passwordHash,
        password_changed_at: now,
        created_at: now,
        is_active: active,
      }
      const [inserted] = await q('users').insert(fields).returning('id')
      return { id: insertedId(inserted), ...fields, pending_email: null }
    },

    setPassword: (id: number, passwordHash: string) =>
      q('users').where({ id }).update({ password_hash: passwordHash, password_changed_at: Date.now() }),

    /**
     * Changes the account's email from `from` to `to` and drops any pending one; false when its email
     * is no longer `from` (a concurrent change won). A unique violation when another account has `to`.
     */
    changeEmail: async (id: number, from: string, to: string): Promise<boolean> =>
      (await q('users').where({ id, email: from }).update({ email: to.toLowerCase(), pending_email: null })) === 1,

    setPendingEmail: (id: number, email: string) =>
      q('users').where({ id }).update({ pending_email: email.toLowerCase() }),

    /** Activates the account; false when it already was active (or is gone). */
    activate: async (id: number): Promise<boolean> =>
      (await q('users').where({ id, is_active: false }).update({ is_active: true })) === 1,

    /** Deletes the accounts never activated that were created at or before `cutoff` (ms); how many went. */
    purgeUnverified: async (cutoff: number): Promise<number> =>
      Number(await q('users').where({ is_active: false }).andWhere('created_at', '<=', cutoff).delete()),

    /** Everything the user owns goes with it through ON DELETE CASCADE. */
    delete: (id: number) => q('users').where({ id }).delete(),
  }
}
