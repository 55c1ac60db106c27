import type { FastifyInstance } from 'fastify'
import { isUniqueViolation } from '../db/dialect.js'
import type { UserRow } from '../db/users.js'
import { activationMail, emailChangedNotice, emailChangeLinkMail, type AccountMail } from '../lib/account-mail.js'
import {
  type AccountLinkPurpose,
  accountLinkDonePage,
  accountLinkFormPage,
  accountLinkInvalidPage,
  alreadyActivePage,
} from '../lib/account-pages.js'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { assertPasswordAllowed } from '../lib/password-policy.js'
import { hashPassword } from '../lib/passwords.js'
import { checkAccountToken, decodeUid, encodeUid, makeAccountToken } from '../lib/reset-tokens.js'

// Sign-up, email verification (EMAIL_VERIFICATION=on) and email changes. Both mail a link to
// <PUBLIC_URL>/auth/activate/<uid>/<token>/; the token says which of the two it completes.

/** Sends a mail without holding up the answer; a failure is logged without the mail (it holds a link). */
function mailLater(app: FastifyInstance, to: string, mail: AccountMail, what: string): void {
  app.mailer.send({ to, ...mail }).catch((err: Error) => app.log.error({ err: err.message }, `could not send ${what}`))
}

const linkTo = (app: FastifyInstance, user: UserRow, token: string) =>
  `${app.config.publicUrl}/auth/activate/${encodeUid(user.id)}/${token}/`

/** Mails a new account its activation link. */
function sendActivationLink(app: FastifyInstance, user: UserRow): void {
  const token = makeAccountToken(app.config.secretKey, 'activation', user)
  const { applicationName, unverifiedAccountTtl } = app.config
  const mail = activationMail(applicationName, user.email, linkTo(app, user, token), unverifiedAccountTtl)
  mailLater(app, user.email, mail, 'the activation email')
}

/**
 * Makes `to` the account's email and mails the old address a notice naming the new one and the
 * time. False when another account has `to` (or a concurrent change came first).
 */
async function applyEmailChange(app: FastifyInstance, user: UserRow, to: string): Promise<boolean> {
  let changed: boolean
  try {
    changed = await app.db.users.changeEmail(user.id, user.email, to)
  } catch (err) {
    if (isUniqueViolation(err)) return false
    throw err
  }
  if (changed)
    mailLater(
      app,
      user.email,
      emailChangedNotice(app.config.applicationName, user.email, to, new Date()),
      'the email change notice',
    )
  return changed
}

type LinkTarget = { user: UserRow; purpose: AccountLinkPurpose }

/** What a link's uid and token complete, if they are valid now. */
async function linkTarget(app: FastifyInstance, uid: string, token: string): Promise<LinkTarget | undefined> {
  const id = decodeUid(uid)
  const user = id === undefined ? undefined : await app.db.users.findById(id)
  if (!user) return undefined
  const { secretKey, passwordResetTimeout, unverifiedAccountTtl } = app.config
  if (user.pending_email && checkAccountToken(secretKey, 'email-change', user, token, passwordResetTimeout))
    return { user, purpose: 'email-change' }
  if (checkAccountToken(secretKey, 'activation', user, token, unverifiedAccountTtl))
    return { user, purpose: 'activation' }
  return undefined
}

/** Completes what a valid link is for. */
async function complete(app: FastifyInstance, { user, purpose }: LinkTarget): Promise<'done' | 'active' | 'taken'> {
  if (purpose === 'activation') return (await app.db.users.activate(user.id)) ? 'done' : 'active'
  return (await applyEmailChange(app, user, user.pending_email!)) ? 'done' : 'taken'
}

const TAKEN = 'The new email address now belongs to another account. Ask for the change again with another one.'

export const account = {
  async createUser(request) {
    const app = request.server
    const { db, config } = app
    const { email, password } = request.body
    assertPasswordAllowed(password, email, 'password')
    if (await db.users.findByEmail(email)) throw errors.emailExists()
    const verify = config.emailVerification === 'on'
    let user: UserRow
    try {
      user = await db.users.create(email, await hashPassword(password, config.bcryptCost), !verify)
    } catch (err) {
      // Two sign-ups for one email at once: the unique index decides.
      if (isUniqueViolation(err)) throw errors.emailExists()
      throw err
    }
    if (verify) sendActivationLink(app, user)
    return { status: 201, body: { id: user.id, email: user.email } }
  },

  async changeEmail(request) {
    const app = request.server
    const { new_email, current_password } = request.body
    const user = await app.db.users.findById(request.caller.userId)
    if (!user) throw errors.notAuthenticated()
    if (!(await app.lockout.checkPassword(user, current_password))) throw errors.invalidPassword()
    const email = new_email.toLowerCase()
    if (email === user.email || (await app.db.users.findByEmail(email))) throw errors.emailExists()
    if (app.config.emailVerification === 'off') {
      if (!(await applyEmailChange(app, user, email))) throw errors.emailExists()
      return { status: 204 }
    }
    await app.db.users.setPendingEmail(user.id, email)
    const token = makeAccountToken(app.config.secretKey, 'email-change', { ...user, pending_email: email })
    const { applicationName, passwordResetTimeout } = app.config
    const mail = emailChangeLinkMail(applicationName, email, linkTo(app, user, token), passwordResetTimeout)
    mailLater(app, email, mail, 'the email change link')
    return {
      status: 202,
      body: { code: 'verification_sent', message: 'A confirmation link was sent to the new address.' },
    }
  },

  async activateAccount(request) {
    const app = request.server
    const target = await linkTarget(app, request.body.uid, request.body.token)
    if (!target) throw errors.invalidActivationLink()
    const result = await complete(app, target)
    if (result === 'active') throw errors.alreadyActive()
    if (result === 'taken') throw errors.emailExists()
    return { status: 204 }
  },

  async resendActivation(request) {
    const app = request.server
    if (app.config.emailVerification === 'off') throw errors.activationDisabled()
    const user = await app.db.users.findByEmail(request.body.email)
    // Mails share the per-account allowance of reset mails. Not awaited: a registered email must
    // not take longer to answer than an unknown one.
    if (user && !user.is_active)
      app.lockout
        .take('reset', user.id)
        .then((allowed) => allowed && sendActivationLink(app, user))
        .catch((err: Error) => app.log.error({ err: err.message }, 'could not send the activation email'))
    return { status: 204 }
  },

  async activationPage(request) {
    const app = request.server
    const name = app.config.applicationName
    const target = await linkTarget(app, request.params.uid, request.params.token)
    if (!target) return { status: 200, body: accountLinkInvalidPage(name) }
    if (target.purpose === 'activation' && target.user.is_active) return { status: 200, body: alreadyActivePage(name) }
    return { status: 200, body: accountLinkFormPage(name, target.purpose) }
  },

  async activationPageSubmit(request) {
    const app = request.server
    const name = app.config.applicationName
    const target = await linkTarget(app, request.params.uid, request.params.token)
    if (!target) return { status: 400, body: accountLinkInvalidPage(name) }
    if (request.validationError)
      return { status: 400, body: accountLinkInvalidPage(name, 'The form was not sent whole.') }
    const result = await complete(app, target)
    if (result === 'taken') return { status: 400, body: accountLinkInvalidPage(name, TAKEN) }
    if (result === 'active') return { status: 200, body: alreadyActivePage(name) }
    return { status: 200, body: accountLinkDonePage(name, target.purpose) }
  },
} satisfies Partial<Handlers>

export const accountLegacy = {
  createUserLegacy: account.createUser,
  changeEmailLegacy: account.changeEmail,
  activateAccountLegacy: account.activateAccount,
} satisfies Partial<Handlers>
