import { createHmac, randomInt } from 'node:crypto'
import fp from 'fastify-plugin'
import { generateSecret, generateURI, verify } from 'otplib'
import type { MfaMethodRow } from '../db/mfa.js'

const TOTP = { digits: 6, period: 30, algorithm: 'sha1' } as const
const BACKUP_CODES = 8
const BACKUP_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789' // no 0/o, 1/l: codes get typed by hand

declare module 'fastify' {
  interface FastifyInstance {
    mfa: {
      totp: typeof TOTP
      backupCodesCount: number
      newSecret(): string
      otpauthUri(secret: string, email: string): string
      /** Fresh backup codes and the hashes to store for them. */
      newBackupCodes(): { codes: string[]; hashes: string[] }
      hashCode(code: string): string
      /** Mails a fresh 6-digit code for the method; any earlier one dies. */
      sendEmailCode(method: MfaMethodRow, email: string): Promise<void>
      /** Checks a 6-digit code of the method and uses it up, so it cannot be replayed. */
      consumeCode(method: MfaMethodRow, code: string): Promise<boolean>
    }
  }
}

export default fp(
  async (app) => {
    const { config, db, mailer } = app
    const codeKey = createHmac('sha256', config.secretKey).update('mfa-codes').digest()
    const hashCode = (code: string) => createHmac('sha256', codeKey).update(code).digest('hex')

    // At start-up: secrets stored before encryption existed are sealed now, and secrets this
    // SECRET_KEY cannot open (it changed) are reported here rather than at each user's next login.
    const sealed = await db.mfa.sealLegacySecrets()
    if (sealed) app.log.info({ sealed }, '2FA secrets stored in plain text were sealed')
    const unreadable = (await db.mfa.unreadable()).filter((m) => m.name === 'app')
    if (unreadable.length)
      app.log.error(
        { count: unreadable.length, userIds: unreadable.slice(0, 50).map((m) => m.userId) },
        'authenticator-app secrets cannot be opened with this SECRET_KEY (was it changed?): ' +
          'these users cannot log in with their app or backup codes until the old key is back',
      )

    app.decorate('mfa', {
      totp: TOTP,
      backupCodesCount: BACKUP_CODES,
      newSecret: () => generateSecret({ length: 20 }),
      otpauthUri(secret: string, email: string) {
        const uri = generateURI({ issuer: config.applicationName, label: email, secret, ...TOTP })
        // otplib leaves out parameters that equal the defaults; spell all three out (as the spec's
        // example does) so an app with other defaults cannot compute different codes. Appended by
        // hand: URLSearchParams would turn the issuer's spaces into '+', which some apps show as is.
        const params = new URL(uri).searchParams
        const extra = Object.entries({
          period: String(TOTP.period),
          digits: String(TOTP.digits),
          algorithm: TOTP.algorithm.toUpperCase(),
        })
          .filter(([key]) => !params.has(key))
          .map(([key, value]) => `&${key}=${value}`)
        return uri + extra.join('')
      },
      hashCode,

      newBackupCodes() {
        const codes = Array.from({ length: BACKUP_CODES }, () =>
          Array.from({ length: 10 }, () => BACKUP_ALPHABET[randomInt(BACKUP_ALPHABET.length)]).join(''),
        )
        return { codes, hashes: codes.map(hashCode) }
      },

      async sendEmailCode(method: MfaMethodRow, email: string) {
        const code = String(randomInt(1_000_000)).padStart(6, '0')
        await db.mfa.update(method.id, {
          email_code_hash: hashCode(code),
          email_code_expires_at: Date.now() + config.emailCodeTtl * 1000,
        })
        const minutes = Math.round(config.emailCodeTtl / 60)
        await mailer.send({
          to: email,
          subject: `${config.applicationName} verification code`,
          text:
            `Your verification code is ${code}\n\n` +
            `It is valid for ${minutes} minutes. If you did not ask for it, change your password.\n`,
        })
      },

      async consumeCode(method: MfaMethodRow, code: string) {
        if (!/^[0-9]{6}$/.test(code)) return false
        if (method.name === 'email') return db.mfa.claimEmailCode(method.id, hashCode(code))
        let result: Awaited<ReturnType<typeof verify>>
        try {
          // One step of clock drift either way, as authenticator apps expect.
          result = await verify({ secret: method.secret, token: code, epochTolerance: TOTP.period, ...TOTP })
        } catch {
          return false
        }
        return result.valid && 'timeStep' in result && (await db.mfa.claimTotpStep(method.id, result.timeStep))
      },
    })
  },
  { name: 'mfa', dependencies: ['config', 'db', 'mailer'] },
)
