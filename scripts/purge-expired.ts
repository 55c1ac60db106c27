// `npm run purge-expired`: deletes every message older than MESSAGE_TTL now, and every account never
// activated (EMAIL_VERIFICATION=on) older than UNVERIFIED_ACCOUNT_TTL, for deployments that purge
// from cron (MESSAGE_PURGE_INTERVAL=0) or want it done before a backup; also expired sessions, the
// marks of used 2FA tokens, spent lockout counters and expired emailed codes. Safe while servers run.
import { authFailuresRepository, usedTokensRepository } from '../db/auth-failures.js'
import { messagesRepository } from '../db/messages.js'
import { mfaRepository } from '../db/mfa.js'
import { sessionsRepository } from '../db/sessions.js'
import { usersRepository } from '../db/users.js'
import { expiryCutoff, unverifiedCutoff } from '../lib/expiry.js'
import { secretBox } from '../lib/secret-box.js'
import { CliError, runCli } from './cli.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

await runCli(
  'purge-expired',
  async (config, db) => {
    const cutoff = expiryCutoff(config)
    const purged = await messagesRepository(db).purgeExpired(cutoff)
    const accountCutoff = unverifiedCutoff(config)
    const accounts = await usersRepository(db).purgeUnverified(accountCutoff)
    // What else is kept only for a while, as the server's own purge does (plugins/housekeeping.ts).
    const now = Date.now()
    const sessions = await sessionsRepository(db).purgeExpired(now)
    const usedTokens = await usedTokensRepository(db).purgeExpired(now)
    const counters = await authFailuresRepository(db).purgeSpent(now, config.lockoutDuration * 1000)
    const codes = await mfaRepository(db, secretBox(config.secretKey, 'mfa-secrets')).clearExpiredEmailCodes(now)
    console.log(
      `purged ${plural(purged, 'expired message')} (sent at or before ${new Date(cutoff).toISOString()}) ` +
        `and ${plural(accounts, 'account')} never activated ` +
        `(created at or before ${new Date(accountCutoff).toISOString()}); ` +
        `also ${plural(sessions, 'expired session')}, ${plural(usedTokens, 'used 2FA token')}, ` +
        `${plural(counters, 'spent lockout counter')} and ${plural(codes, 'expired emailed code')}`,
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
