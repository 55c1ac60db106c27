import fp from 'fastify-plugin'
import { expiryCutoff, unverifiedCutoff } from '../lib/expiry.js'

declare module 'fastify' {
  interface FastifyInstance {
    messageExpiry: {
      /** Deletes every expired message now; how many went. */
      purge(): Promise<number>
      /** Deletes the accounts never activated within UNVERIFIED_ACCOUNT_TTL now; how many went. */
      purgeUnverified(): Promise<number>
    }
  }
}

// Expired messages (MESSAGE_TTL) are never delivered, and are deleted every MESSAGE_PURGE_INTERVAL
// seconds (0: never here, e.g. when `npm run purge-expired` runs from cron instead). Several
// instances may purge at once; the repository keeps that safe. Accounts never activated
// (EMAIL_VERIFICATION=on) go on the same schedule once UNVERIFIED_ACCOUNT_TTL has passed.
export default fp(
  async (app) => {
    const { config, db } = app
    let running: Promise<number> | undefined
    const purge = () => {
      running ??= db.messages.purgeExpired(expiryCutoff(config)).finally(() => (running = undefined))
      return running
    }
    let purgingAccounts: Promise<number> | undefined
    const purgeUnverified = () => {
      purgingAccounts ??= db.users
        .purgeUnverified(unverifiedCutoff(config))
        .finally(() => (purgingAccounts = undefined))
      return purgingAccounts
    }
    app.decorate('messageExpiry', { purge, purgeUnverified })
    if (config.messagePurgeInterval === 0) return

    const tick = async () => {
      try {
        const purged = await purge()
        if (purged) app.log.info({ purged }, 'expired messages purged')
      } catch (err) {
        app.log.error({ err }, 'purging expired messages failed')
      }
      try {
        const accounts = await purgeUnverified()
        if (accounts) app.log.info({ accounts }, 'accounts never activated purged')
      } catch (err) {
        app.log.error({ err }, 'purging accounts never activated failed')
      }
    }
    const timer = setInterval(tick, config.messagePurgeInterval * 1000)
    timer.unref()
    app.addHook('onReady', () => void tick())
    // The database closes after this hook: let a purge in progress finish first.
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await running?.catch(() => {})
      await purgingAccounts?.catch(() => {})
    })
  },
  { name: 'message-expiry', dependencies: ['config', 'db'] },
)
