import fp from 'fastify-plugin'
import type { LockScope } from '../db/auth-failures.js'
import { verifyPassword } from '../lib/passwords.js'

declare module 'fastify' {
  interface FastifyInstance {
    lockout: {
      /**
       * Runs one guess: false without trying once the account has had LOCKOUT_THRESHOLD tries in
       * LOCKOUT_DURATION or is locked; otherwise the result of `attempt`. A success forgets the
       * failures; the failure that uses up the allowance locks the account for LOCKOUT_DURATION.
       */
      guard(scope: LockScope, userId: number, attempt: () => Promise<boolean>): Promise<boolean>
      /** Counts one use of a limited action (a reset email); false once the allowance is used up. */
      take(scope: LockScope, userId: number): Promise<boolean>
      /**
       * Checks an account's current password as one guess of the login allowance: every operation
       * that asks for the password counts, so a stolen token guesses no faster than a login would.
       */
      checkPassword(user: { id: number; password_hash: string }, password: string): Promise<boolean>
    }
  }
}

// Per-account limits on guessing (passwords, 2FA codes, reset links) and on reset emails, on top of
// the per-IP throttles: an attacker spreading guesses over many addresses still gets
// LOCKOUT_THRESHOLD tries per LOCKOUT_DURATION. Each try is counted before it is judged, in one
// statement, so a burst of parallel guesses gets no more tries than a sequence. Callers answer a
// refused try exactly like a wrong guess.
export default fp(
  async (app) => {
    const { lockoutThreshold, lockoutDuration } = app.config
    const windowMs = lockoutDuration * 1000
    const failures = app.db.authFailures

    /** The number of this try, or undefined when it must not be made. */
    async function admit(scope: LockScope, userId: number, now: number): Promise<number | undefined> {
      const { attempts, lockedUntil } = await failures.record(scope, userId, now, windowMs)
      return lockedUntil > now || attempts > lockoutThreshold ? undefined : attempts
    }

    async function lockAt(scope: LockScope, userId: number, now: number) {
      await failures.lock(scope, userId, now + windowMs)
      app.log.warn({ scope, userId }, 'per-account limit reached; locked for LOCKOUT_DURATION')
    }

    async function guard(scope: LockScope, userId: number, attempt: () => Promise<boolean>) {
      const now = Date.now()
      const n = await admit(scope, userId, now)
      if (n === undefined) return false
      const ok = await attempt()
      if (ok) await failures.clear(scope, userId)
      else if (n >= lockoutThreshold) await lockAt(scope, userId, now)
      return ok
    }

    app.decorate('lockout', {
      guard,
      checkPassword: (user: { id: number; password_hash: string }, password: string) =>
        guard('login', user.id, () => verifyPassword(password, user.password_hash, app.config.bcryptCost)),
      async take(scope: LockScope, userId: number) {
        const now = Date.now()
        const n = await admit(scope, userId, now)
        if (n !== undefined && n >= lockoutThreshold) await lockAt(scope, userId, now)
        return n !== undefined
      },
    })
  },
  { name: 'lockout', dependencies: ['config', 'db'] },
)
