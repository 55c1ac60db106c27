import fp from 'fastify-plugin'
import type { LockScope } from '../db/auth-failures.js'

declare module 'fastify' {
  interface FastifyInstance {
    lockout: {
      /** True while the account is locked for this kind of attempt. */
      isLocked(scope: LockScope, userId: number): Promise<boolean>
      /** Counts a failed attempt; the one that reaches LOCKOUT_THRESHOLD locks the account for LOCKOUT_DURATION. */
      fail(scope: LockScope, userId: number): Promise<void>
      /** Forgets the failures after a success. */
      clear(scope: LockScope, userId: number): Promise<void>
      /**
       * Runs one guess: false without trying while the account is locked; otherwise the result of
       * `attempt`, counted as a failure or clearing the failures.
       */
      guard(scope: LockScope, userId: number, attempt: () => Promise<boolean>): Promise<boolean>
    }
  }
}

// Per-account limits on guessing (passwords, 2FA codes, reset links), on top of the per-IP throttles:
// an attacker spreading guesses over many addresses still gets LOCKOUT_THRESHOLD tries per
// LOCKOUT_DURATION. Callers answer a locked account exactly like a wrong guess.
export default fp(
  async (app) => {
    const { lockoutThreshold, lockoutDuration } = app.config
    const windowMs = lockoutDuration * 1000
    const failures = app.db.authFailures
    const lockout = {
      async isLocked(scope: LockScope, userId: number) {
        return ((await failures.lockedUntil(scope, userId)) ?? 0) > Date.now()
      },
      async fail(scope: LockScope, userId: number) {
        const now = Date.now()
        if ((await failures.record(scope, userId, now, windowMs)) >= lockoutThreshold) {
          await failures.lock(scope, userId, now + windowMs)
          app.log.warn({ scope, userId }, 'account locked after repeated failures')
        }
      },
      async clear(scope: LockScope, userId: number) {
        await failures.clear(scope, userId)
      },
      async guard(scope: LockScope, userId: number, attempt: () => Promise<boolean>) {
        if (await lockout.isLocked(scope, userId)) return false
        const ok = await attempt()
        await (ok ? lockout.clear(scope, userId) : lockout.fail(scope, userId))
        return ok
      },
    }
    app.decorate('lockout', lockout)
  },
  { name: 'lockout', dependencies: ['config', 'db'] },
)
