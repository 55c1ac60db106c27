import type { FastifyInstance } from 'fastify'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { hashPassword } from '../lib/passwords.js'
import { assertPasswordAllowed, validatePassword } from '../lib/password-policy.js'
import { checkResetToken, decodeUid, encodeUid, makeResetToken } from '../lib/reset-tokens.js'
import type { UserRow } from '../db/users.js'
import { resetDonePage, resetFormPage, resetInvalidPage } from '../lib/reset-page.js'

/** The user a reset link belongs to, when the link is valid now; wrong tokens count toward the account's lock. */
async function userForToken(app: FastifyInstance, uid: string, token: string): Promise<UserRow | undefined> {
  const id = decodeUid(uid)
  const user = id === undefined ? undefined : await app.db.users.findById(id)
  if (!user) return undefined
  const valid = await app.lockout.guard('reset_confirm', user.id, async () =>
    checkResetToken(app.config.secretKey, user, token, app.config.passwordResetTimeout),
  )
  return valid ? user : undefined
}

/** Mails a reset link unless the account already got LOCKOUT_THRESHOLD of them in LOCKOUT_DURATION. */
async function sendResetLink(app: FastifyInstance, user: UserRow): Promise<void> {
  if (!(await app.lockout.take('reset', user.id))) return
  const token = makeResetToken(app.config.secretKey, user)
  const link = `${app.config.publicUrl}/auth/password/reset/confirm/${encodeUid(user.id)}/${token}/`
  await app.mailer.send({
    to: user.email,
    subject: `${app.config.applicationName} password reset`,
    text:
      `Someone asked to reset the password for ${user.email}.\n\nTo choose a new password, open:\n${link}\n\n` +
      `The link works once and expires in ${Math.round(app.config.passwordResetTimeout / 60)} minutes. ` +
      'If you did not ask for this, ignore this email.\n',
  })
}

async function completeReset(app: FastifyInstance, user: UserRow, newPassword: string): Promise<void> {
  const passwordHash = await hashPassword(newPassword, app.config.bcryptCost)
  await app.db.transaction(async (tx) => {
    await tx.users.setPassword(user.id, passwordHash)
    await tx.sessions.deleteAllOf(user.id)
  })
  await app.bus.publish({ type: 'account', userId: user.id })
}

export const passwordReset = {
  async resetPassword(request) {
    const app = request.server
    const user = await app.db.users.findByEmail(request.body.email)
    // Not awaited: the answer must not take longer for a registered email than for an unknown one.
    // An account not activated yet gets none, as in djoser (POST /auth/users/resend/ serves it).
    if (user?.is_active)
      sendResetLink(app, user).catch((err: Error) =>
        app.log.error({ err: err.message }, 'could not send the password reset email'),
      )
    return { status: 204 }
  },

  async resetPasswordConfirm(request) {
    const { uid, token, new_password } = request.body
    const user = await userForToken(request.server, uid, token)
    if (!user) throw errors.invalidResetLink()
    assertPasswordAllowed(new_password, user.email, 'new_password')
    await completeReset(request.server, user, new_password)
    return { status: 204 }
  },

  async resetPasswordPage(request) {
    const app = request.server
    const user = request.validationError ? undefined : await userForToken(app, request.params.uid, request.params.token)
    // A link that is no good is a refusal, as the form's submit says too; the page tells the person why.
    if (!user) return { status: 400, body: resetInvalidPage(app.config.applicationName) }
    return { status: 200, body: resetFormPage(app.config.applicationName) }
  },

  async resetPasswordPageSubmit(request) {
    const app = request.server
    const name = app.config.applicationName
    const user = await userForToken(app, request.params.uid, request.params.token)
    if (!user) return { status: 400, body: resetInvalidPage(name) }
    if (request.validationError || !request.body)
      return { status: 400, body: resetFormPage(name, ['Fill in both password fields.']) }
    const { new_password, re_new_password } = request.body
    if (new_password !== re_new_password)
      return { status: 400, body: resetFormPage(name, ['The two passwords do not match.']) }
    const problems = validatePassword(new_password, user.email)
    if (problems.length)
      return {
        status: 400,
        body: resetFormPage(
          name,
          problems.map((p) => p.message),
        ),
      }
    await completeReset(app, user, new_password)
    return { status: 200, body: resetDonePage(name) }
  },
} satisfies Partial<Handlers>
