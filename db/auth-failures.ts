import type { Knex } from 'knex'

type Db = Knex | Knex.Transaction
export type LockScope = 'login' | 'mfa' | 'reset' | 'reset_confirm'

export function authFailuresRepository(knex: Knex) {
  return {
    async lockedUntil(scope: LockScope, userId: number, trx: Db = knex): Promise<number | undefined> {
      const row = await trx('auth_failures').select('locked_until').where({ scope, user_id: userId }).first()
      return row?.locked_until ?? undefined
    },

    /**
     * Counts one failure in the window that started at the first failure (a new window once `windowMs`
     * has passed) in one statement, so concurrent failures are all counted; returns the count.
     */
    async record(scope: LockScope, userId: number, now: number, windowMs: number, trx: Db = knex): Promise<number> {
      const sql = `INSERT INTO auth_failures (scope, user_id, failures, window_started_at, locked_until) VALUES (?, ?, 1, ?, NULL)
        ON CONFLICT (scope, user_id) DO UPDATE SET
          failures = CASE WHEN auth_failures.window_started_at <= ? THEN 1 ELSE auth_failures.failures + 1 END,
          window_started_at = CASE WHEN auth_failures.window_started_at <= ? THEN ? ELSE auth_failures.window_started_at END
        RETURNING failures`
      const stale = now - windowMs
      const result = await trx.raw(sql, [scope, userId, now, stale, stale, now])
      const rows = trx.client.config.client === 'pg' ? result.rows : result
      return Number(rows[0].failures)
    },

    lock: (scope: LockScope, userId: number, until: number, trx: Db = knex) =>
      trx('auth_failures').where({ scope, user_id: userId }).update({ locked_until: until, failures: 0 }),

    clear: (scope: LockScope, userId: number, trx: Db = knex) => trx('auth_failures').where({ scope, user_id: userId }).delete(),
  }
}

export function usedTokensRepository(knex: Knex) {
  return {
    /** Marks a token used; false when it already was. Expired entries are cleared on the way. */
    async use(id: string, expiresAt: number, trx: Db = knex): Promise<boolean> {
      await trx('used_tokens').where('expires_at', '<', Date.now()).delete()
      const inserted = await trx('used_tokens').insert({ id, expires_at: expiresAt }).onConflict('id').ignore().returning('id')
      return inserted.length === 1
    },
  }
}
