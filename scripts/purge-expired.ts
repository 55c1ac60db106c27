// `npm run purge-expired`: deletes every message older than MESSAGE_TTL now, for deployments that
// purge from cron (MESSAGE_PURGE_INTERVAL=0) or want it done before a backup. Safe while servers run.
import { messagesRepository } from '../db/messages.js'
import { expiryCutoff } from '../lib/expiry.js'
import { CliError, runCli } from './cli.js'

await runCli(
  'purge-expired',
  async (config, db) => {
    const cutoff = expiryCutoff(config)
    const purged = await messagesRepository(db).purgeExpired(cutoff)
    console.log(
      `purged ${purged} expired message${purged === 1 ? '' : 's'} ` +
        `(sent at or before ${new Date(cutoff).toISOString()})`,
    )
  },
  () => {
    if (process.argv.length > 2)
      throw new CliError(`takes no arguments (got ${process.argv.slice(2).join(' ')}); MESSAGE_TTL sets the age`)
  },
)
