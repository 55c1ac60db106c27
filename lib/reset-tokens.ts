import { createHmac, timingSafeEqual } from 'node:crypto'

/** What a reset token signs: the account, its address and the state of its password. */
type ResetSubject = { id: number; email: string; password_hash: string; password_changed_at: number }
/** What an activation or email-change token signs. */
type AccountSubject = { id: number; email: string; created_at: number; pending_email: string | null }
export type AccountTokenPurpose = 'activation' | 'email-change'

// Stateless like Django's: a reset token signs the user's address, current password hash and the
// time of its last change, so it dies when the password changes (which using it does), when the
// email changes, and when it expires. An activation token signs the account as it was created (using
// it again finds the account active); an email-change token signs the address and the pending one,
// so it dies once the change is made or another is asked for.

export const encodeUid = (id: number) => Buffer.from(String(id)).toString('base64url')

export function decodeUid(uid: string): number | undefined {
  const text = Buffer.from(uid, 'base64url').toString('utf8')
  return /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : undefined
}

const sign = (secretKey: string, subject: string) =>
  createHmac('sha256', secretKey).update(subject).digest('hex').slice(0, 40)

function resetSubject(user: ResetSubject, issuedAt: string): string {
  return `password-reset:${user.id}:${user.email}:${user.password_hash}:${user.password_changed_at}:${issuedAt}`
}

function accountSubject(purpose: AccountTokenPurpose, user: AccountSubject, issuedAt: string): string {
  return purpose === 'activation'
    ? `activation:${user.id}:${user.email}:${user.created_at}:${issuedAt}`
    : `email-change:${user.id}:${user.email}:${user.pending_email}:${issuedAt}`
}

/** `<issued at, base 36 seconds>-<40 hex digits>`, the signature over what `subject` makes of the issue time. */
function makeToken(secretKey: string, subject: (issuedAt: string) => string, now: number): string {
  const issuedAt = Math.floor(now / 1000).toString(36)
  return `${issuedAt}-${sign(secretKey, subject(issuedAt))}`
}

function checkToken(
  secretKey: string,
  subject: (issuedAt: string) => string,
  token: string,
  timeoutSeconds: number,
  now: number,
): boolean {
  const match = /^([0-9a-z]{1,10})-([0-9a-f]{40})$/.exec(token)
  if (!match) return false
  const age = Math.floor(now / 1000) - parseInt(match[1], 36)
  if (age < 0 || age > timeoutSeconds) return false
  return timingSafeEqual(Buffer.from(match[2]), Buffer.from(sign(secretKey, subject(match[1]))))
}

export const makeResetToken = (secretKey: string, user: ResetSubject, now = Date.now()) =>
  makeToken(secretKey, (issuedAt) => resetSubject(user, issuedAt), now)

export const checkResetToken = (
  secretKey: string,
  user: ResetSubject,
  token: string,
  timeoutSeconds: number,
  now = Date.now(),
) => checkToken(secretKey, (issuedAt) => resetSubject(user, issuedAt), token, timeoutSeconds, now)

export const makeAccountToken = (
  secretKey: string,
  purpose: AccountTokenPurpose,
  user: AccountSubject,
  now = Date.now(),
) => makeToken(secretKey, (issuedAt) => accountSubject(purpose, user, issuedAt), now)

export const checkAccountToken = (
  secretKey: string,
  purpose: AccountTokenPurpose,
  user: AccountSubject,
  token: string,
  timeoutSeconds: number,
  now = Date.now(),
) => checkToken(secretKey, (issuedAt) => accountSubject(purpose, user, issuedAt), token, timeoutSeconds, now)
