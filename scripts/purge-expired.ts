// `npm run purge-expired`: deletes every message older than MESSAGE_TTL now, and every account never
// activated (EMAIL_VERIFICATION=on) older than UNVERIFIED_ACCOUNT_TTL, for deployments that purge
// from cron (MESSAGE_PURGE_INTERVAL=0) or want it done before a backup. Safe while servers run.
import { messagesRepository } from '../db/messages.js'
import { usersRepository } from '../db/users.js'
import { expiryCutoff, unverifiedCutoff } from '../lib/expiry.js'
import { CliError, runCli } from './cli.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

await runCli(
  'purge-expired',
  async (config, db) => {
    const cutoff = expiryCutoff(config)
    const purged = await messagesRepository(db).purgeExpired(cutoff)
    const accountCutoff = unverifiedCutoff(config)
    const accounts = await usersRepository(db).purgeUnverified(accountCutoff)
    console.log(
      `purged ${plural(purged, 'expired message')} (sent at or before ${new Date(cutoff).toISOString()}) ` +
        `and ${plural(accounts, 'account')} never activated ` +
        `(created at or before ${new Date(accountCutoff).toISOString()})`,
    )
  },
  () => {
    if (process.argv.length > 2)
      throw new CliError(
        `takes no arguments (got ${process.argv.slice(2).join(' ')}); ` +
          'MESSAGE_TTL and UNVERIFIED_ACCOUNT_TTL set the ages',
      )
  },
)
