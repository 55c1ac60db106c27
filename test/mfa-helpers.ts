import { generate } from 'otplib'
import type { Api, buildWithMail } from './helper.js'

// Shared by the 2FA test files.

type Teardown = { teardown(fn: () => unknown): void }
export type Smtp = Awaited<ReturnType<typeof buildWithMail>>['smtp']

/**
 * Shifts Date.now (read by the server, otplib and the JWT library alike) so a test can reach a
 * later TOTP step or an expiry without waiting: every accepted TOTP code uses up its step.
 */
export function fakeClock(t: Teardown) {
  const realNow = Date.now
  let offset = 0
  Date.now = () => realNow() + offset
  t.teardown(() => {
    Date.now = realNow
  })
  return {
    advance: (seconds: number) => {
      offset += seconds * 1000
    },
  }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)
export const totp = (secret: string, epoch = nowSeconds()) =>
  generate({ secret, digits: 6, period: 30, algorithm: 'sha1', epoch })
export const secretOf = (qrLink: string) => new URL(qrLink).searchParams.get('secret')!

/** A 6-digit code that is none of the codes the server could accept around now (it allows ±1 step). */
export async function wrongTotp(secret: string): Promise<string> {
  const near = new Set(await Promise.all([-2, -1, 0, 1, 2].map((d) => totp(secret, nowSeconds() + d * 30))))
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0')
    if (!near.has(code)) return code
  }
}

/** The 6-digit code in the first mail to `email` received after the first `after` mails. */
export async function mailedCode(smtp: Smtp, email: string, after: number): Promise<string> {
  const mail = await smtp.next(email, after)
  const match = /\b\d{6}\b/.exec(
    mail.text
      .split(/\r?\n\r?\n/)
      .slice(1)
      .join('\n'),
  ) // past the headers
  if (!match) throw new Error(`no code in mail: ${mail.text}`)
  return match[0]
}

export async function activeMethods(api: Api, token: string) {
  const res = await api.get('/auth/mfa/user-active-methods/', { token })
  if (res.status !== 200) throw new Error(`user-active-methods: ${res.status} ${res.text}`)
  return res.body as { name: string; is_primary: boolean }[]
}

/** Activates and confirms the app method; the clock moves on a step so the next code is fresh. */
export async function enableApp(api: Api, token: string, clock: ReturnType<typeof fakeClock>) {
  const activated = await api.post('/auth/app/activate/', undefined, { token })
  const secret = secretOf(activated.body.qr_link)
  const confirmed = await api.post('/auth/app/activate/confirm/', { code: await totp(secret) }, { token })
  if (confirmed.status !== 200) throw new Error(`app confirm failed: ${confirmed.status} ${confirmed.text}`)
  clock.advance(30)
  return { secret, backupCodes: confirmed.body.backup_codes as string[] }
}

/** Activates and confirms the email method with the mailed code. */
export async function enableEmail(api: Api, smtp: Smtp, user: { email: string; token: string }) {
  const before = smtp.mails.length
  await api.post('/auth/email/activate/', undefined, { token: user.token })
  const code = await mailedCode(smtp, user.email, before)
  const confirmed = await api.post('/auth/email/activate/confirm/', { code }, { token: user.token })
  if (confirmed.status !== 200) throw new Error(`email confirm failed: ${confirmed.status} ${confirmed.text}`)
  return { backupCodes: confirmed.body.backup_codes as string[] }
}
