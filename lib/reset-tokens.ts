import { createHmac, timingSafeEqual } from 'node:crypto'

/** What a reset token signs: the account and the state of its password. */
type ResetSubject = { id: number; password_hash: string; password_changed_at: number }

// Stateless like Django's: the token signs the user's current password hash and the time of its
// last change, so it dies when the password changes (which using it does) and when it expires.

export const encodeUid = (id: number) => Buffer.from(String(id)).toString('base64url')

export function decodeUid(uid: string): number | undefined {
  const text = Buffer.from(uid, 'base64url').toString('utf8')
  return /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : undefined
}

function sign(secretKey: string, user: ResetSubject, issuedAt: string): string {
  return createHmac('sha256', secretKey)
    .update(`password-reset:${user.id}:${user.password_hash}:${user.password_changed_at}:${issuedAt}`)
    .digest('hex')
    .slice(0, 40)
}

export function makeResetToken(secretKey: string, user: ResetSubject, now = Date.now()): string {
  const issuedAt = Math.floor(now / 1000).toString(36)
  return `${issuedAt}-${sign(secretKey, user, issuedAt)}`
}

export function checkResetToken(
  secretKey: string,
  user: ResetSubject,
  token: string,
  timeoutSeconds: number,
  now = Date.now(),
): boolean {
  const match = /^([0-9a-z]{1,10})-([0-9a-f]{40})$/.exec(token)
  if (!match) return false
  const age = Math.floor(now / 1000) - parseInt(match[1], 36)
  if (age < 0 || age > timeoutSeconds) return false
  return timingSafeEqual(Buffer.from(match[2]), Buffer.from(sign(secretKey, user, match[1])))
}
