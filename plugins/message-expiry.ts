import fp from 'fastify-plugin'
import { expiryCutoff } from '../lib/expiry.js'

declare module 'fastify' {
  interface FastifyInstance {
    messageExpiry: {
      /** Deletes every expired message now; how many went. */
      purge(): Promise<number>
    }
  }
}

// Expired messages (MESSAGE_TTL) are never delivered, and are deleted every MESSAGE_PURGE_INTERVAL
// seconds (0: never here, e.g. when `npm run purge-expired` runs from cron instead). Several
// instances may purge at once; the repository keeps that safe.
export default fp(
  async (app) => {
    const { config, db } = app
    let running: Promise<number> | undefined
    const purge = () => {
      running ??= db.messages.purgeExpired(expiryCutoff(config)).finally(() => (running = undefined))
      return running
    }
    app.decorate('messageExpiry', { purge })
    if (config.messagePurgeInterval === 0) return

    const tick = async () => {
      try {
        const purged = await purge()
        if (purged) app.log.info({ purged }, 'expired messages purged')
      } catch (err) {
        app.log.error({ err }, 'purging expired messages failed')
      }
    }
    const timer = setInterval(tick, config.messagePurgeInterval * 1000)
    timer.unref()
    app.addHook('onReady', () => void tick())
    // The database closes after this hook: let a purge in progress finish first.
    app.addHook('onClose', async () => {
      clearInterval(timer)
      await running?.catch(() => {})
    })
  },
  { name: 'message-expiry', dependencies: ['config', 'db'] },
)
