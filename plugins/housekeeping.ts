import fp from 'fastify-plugin'

/** What one housekeeping run deleted (or forgot), by kind. */
type Housekept = { sessions: number; usedTokens: number; lockoutCounters: number; emailCodes: number }

declare module 'fastify' {
  interface FastifyInstance {
    housekeeping: {
      /** Deletes now what is kept only for a while and has had its time; how many of each went. */
      purge(): Promise<Housekept>
    }
  }
}

// Rows the server keeps only for a while, deleted on the purge schedule of expired messages
// (MESSAGE_PURGE_INTERVAL; `npm run purge-expired` does the same from cron): sessions past
// AUTH_TOKEN_TTL, the used-up marks of 2FA ephemeral tokens past MFA_EPHEMERAL_TOKEN_TTL, lockout
// counters whose LOCKOUT_DURATION window and lock are over, and emailed 2FA codes past
// MFA_EMAIL_CODE_TTL. Each is refused already when its time is up; this only stops it being kept.
// Safe with several instances: every deletion is one statement of rows no request can use.
export default fp(
  async (app) => {
    const { config, db } = app
    const windowMs = config.lockoutDuration * 1000
    let running: Promise<Housekept> | undefined
    const run = async (): Promise<Housekept> => {
      const now = Date.now()
      return {
        sessions: await db.sessions.purgeExpired(now),
        usedTokens: await db.usedTokens.purgeExpired(now),
        lockoutCounters: await db.authFailures.purgeSpent(now, windowMs),
        emailCodes: await db.mfa.clearExpiredEmailCodes(now),
      }
    }
    const purge = () => {
      running ??= run().finally(() => (running = undefined))
      return running
    }
    app.decorate('housekeeping', { purge })
    if (config.messagePurgeInterval === 0) return

    const tick = async () => {
      try {
        const done = await purge()
        if (Object.values(done).some(Boolean)) app.log.info(done, 'housekeeping: expired rows purged')
      } catch (err) {
        app.log.error({ err }, 'housekeeping failed')
      }
    }
    const timer = setInterval(tick, config.messagePurgeInterval * 1000)
    timer.unref()
    app.addHook('onReady', () => void tick())
    // The database closes after this hook: let a run in progress finish first.
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await running?.catch(() => {})
    })
  },
  { name: 'housekeeping', dependencies: ['config', 'db'] },
)
