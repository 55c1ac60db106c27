import { type Queryable, rowsOf } from './dialect.js'

export type LockScope = 'login' | 'mfa' | 'reset' | 'reset_confirm'

export function authFailuresRepository(q: Queryable) {
  return {
    /**
     * Counts one attempt in the window that started at the first one (a new window once `windowMs`
     * has passed) in one statement, so concurrent attempts each get their own number; returns it
     * with the end of any lock.
     */
    async record(
      scope: LockScope,
      userId: number,
      now: number,
      windowMs: number,
    ): Promise<{ attempts: number; lockedUntil: number }> {
      const sql = `INSERT INTO auth_failures (scope, user_id, failures, window_started_at, locked_until)
        VALUES (?, ?, 1, ?, NULL)
        ON CONFLICT (scope, user_id) DO UPDATE SET
          failures = CASE WHEN auth_failures.locked_until > ? THEN auth_failures.failures
            WHEN auth_failures.window_started_at <= ? THEN 1 ELSE auth_failures.failures + 1 END,
          window_started_at = CASE WHEN auth_failures.locked_until > ? THEN auth_failures.window_started_at
            WHEN auth_failures.window_started_at <= ? THEN ? ELSE auth_failures.window_started_at END
        RETURNING failures, locked_until`
      // While locked nothing is counted, so tries against a lock neither count nor extend it.
      const stale = now - windowMs
      const result = await q.raw(sql, [scope, userId, now, now, stale, now, stale, now])
      const rows = rowsOf<{ failures: number; locked_until: number | null }>(result)
      return { attempts: Number(rows[0].failures), lockedUntil: Number(rows[0].locked_until ?? 0) }
    },

    lock: (scope: LockScope, userId: number, until: number) =>
      q('auth_failures').where({ scope, user_id: userId }).update({ locked_until: until }),

    clear: (scope: LockScope, userId: number) => q('auth_failures').where({ scope, user_id: userId }).delete(),

    /**
     * Deletes the counters that no longer count: their window started `windowMs` or more before
     * `now` and any lock has ended. `record` would start such a row afresh, exactly as with no row.
     */
    purgeSpent: (now: number, windowMs: number): Promise<number> =>
      q('auth_failures')
        .where('window_started_at', '<=', now - windowMs)
        .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', now))
        .delete(),
  }
}

export function usedTokensRepository(q: Queryable) {
  return {
    /** Deletes the entries of tokens expired before `now` (ms), which no longer verify anyway; how many went. */
    purgeExpired: (now: number): Promise<number> => q('used_tokens').where('expires_at', '<', now).delete(),

    /** Takes a used token back, for an attempt that failed after claiming it. */
    release: (id: string) => q('used_tokens').where({ id }).delete(),

    /** Marks a token used; false when it already was. Expired entries are cleared on the way. */
    async use(id: string, expiresAt: number): Promise<boolean> {
      await q('used_tokens').where('expires_at', '<', Date.now()).delete()
      const inserted = await q('used_tokens')
        .insert({ id, expires_at: expiresAt })
        .onConflict('id')
        .ignore()
        .returning('id')
      return inserted.length === 1
    },
  }
}
