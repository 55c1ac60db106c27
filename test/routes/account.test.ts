// Sign-up at djoser 1.7's path, email changes (with and without EMAIL_VERIFICATION), activation
// links (API and page), resending them, and the purge of accounts never activated. Mail goes
// through a real SMTP server.
import t from 'tap'
import { buildWithMail, deviceBody, PASSWORD, signUp, uniqueEmail, userWithDevice, type Api } from '../helper.js'
import { mailedCode, enableEmail } from '../mfa-helpers.js'
import { hashPassword } from '../../lib/passwords.js'
import { encodeUid, makeAccountToken } from '../../lib/reset-tokens.js'

const PUBLIC_URL = 'https://chat.example.org'
const LINK = /https:\/\/chat\.example\.org\/auth\/activate\/([^/\s"<]+)\/([^/\s"<]+)\//
const NEW_PASSWORD = 'staple-lantern-orbit'

type T = Parameters<typeof buildWithMail>[0]
type Built = Awaited<ReturnType<typeof buildWithMail>>

const setup = (tt: T, overrides = {}) => buildWithMail(tt, { publicUrl: PUBLIC_URL, ...overrides })
const verifying = (tt: T, overrides = {}) => setup(tt, { emailVerification: 'on', ...overrides })
const login = (api: Api, email: string, password = PASSWORD) => api.post('/auth/login/', { email, password })

/** The link in the next mail to `email`, with its uid and token. */
async function mailedLink({ smtp }: Built, email: string, after: number) {
  const mail = await smtp.next(email, after)
  const match = LINK.exec(mail.text)
  if (!match) throw new Error(`no link in: ${mail.text}`)
  return { mail, link: match[0], path: new URL(match[0]).pathname, uid: match[1], token: match[2] }
}

/** Signs up with verification on; the account and its activation link. */
async function signUpUnverified(built: Built, email = uniqueEmail()) {
  const before = built.smtp.mails.length
  const res = await built.api.post('/auth/users/', { email, password: PASSWORD })
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${res.text}`)
  return { id: res.body.id as number, email, ...(await mailedLink(built, email, before)) }
}

const multipart = (raw: string) => /Content-Type: text\/plain/i.test(raw) && /Content-Type: text\/html/i.test(raw)

t.test('POST /auth/users/create/ (djoser 1.7) signs up as POST /auth/users/ does', async (tt) => {
  const { api } = await setup(tt)
  const email = uniqueEmail()
  const res = await api.post('/auth/users/create/', { email, password: PASSWORD })
  tt.equal(res.status, 201)
  tt.same(Object.keys(res.body).sort(), ['email', 'id'])
  tt.equal(res.body.email, email)
  tt.equal((await login(api, email)).status, 200, 'the account logs in at once (verification off)')
  const again = await api.post('/auth/users/create', { email: email.toUpperCase(), password: PASSWORD })
  tt.equal(again.status, 400)
  tt.equal(again.body.code, 'email_exists')
  // Too common, and not a word request logs hold (the log audit would take a path segment for it).
  const weak = await api.post('/auth/users/create/', { email: uniqueEmail(), password: 'iloveyou' })
  tt.equal(weak.status, 400)
  tt.equal(weak.body.code, 'invalid_data')
})

for (const path of ['/auth/users/change_username/', '/auth/email/']) {
  t.test(`${path}: the email changes at once, the old address gets a notice, logins use the new one`, async (tt) => {
    const built = await setup(tt)
    const { api, smtp } = built
    const user = await signUp(api)
    const newEmail = uniqueEmail('moved')
    const before = smtp.mails.length
    const res = await api.post(path, { new_email: newEmail, current_password: PASSWORD }, { token: user.token })
    tt.equal(res.status, 204)
    tt.equal(res.text, '')
    const notice = await smtp.next(user.email, before)
    tt.match(notice.text, /Subject: .*your email address was changed/)
    tt.match(notice.text, newEmail, 'the notice names the new address')
    tt.match(notice.text, /at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'and the time')
    tt.ok(multipart(notice.raw), 'plain text and HTML')
    tt.equal(smtp.mails.filter((m) => m.to.includes(newEmail)).length, 0, 'nothing to the new address')

    const me = await api.get('/auth/users/me/', { token: user.token })
    tt.same(me.body, { id: user.id, email: newEmail }, 'the session stays and sees the new email')
    tt.equal((await login(api, user.email)).body.code, 'invalid_credentials', 'the old address logs in no more')
    tt.equal((await login(api, newEmail.toUpperCase())).status, 200, 'the new one does')
  })
}

t.test('change email: wrong password, taken or own address, bad data; the lockout counts', async (tt) => {
  const { api, smtp, config } = await setup(tt, { lockoutThreshold: 3 })
  const user = await signUp(api)
  const other = await signUp(api)
  const change = (body: unknown) => api.post('/auth/users/change_username/', body, { token: user.token })

  const taken = await change({ new_email: other.email.toUpperCase(), current_password: PASSWORD })
  tt.equal(taken.status, 400)
  tt.equal(taken.body.code, 'email_exists')
  const own = await change({ new_email: user.email, current_password: PASSWORD })
  tt.equal(own.body.code, 'email_exists', 'the own address is taken too')
  const bad = await change({ new_email: 'not-an-email', current_password: PASSWORD })
  tt.equal(bad.status, 400)
  tt.equal(bad.body.code, 'invalid_data')
  tt.same(
    bad.body.errors.map((e: { field: string }) => e.field),
    ['body.new_email'],
  )
  const missing = await change({ new_email: uniqueEmail() })
  tt.equal(missing.body.code, 'invalid_data')
  const anon = await api.post('/auth/users/change_username/', { new_email: uniqueEmail(), current_password: PASSWORD })
  tt.equal(anon.status, 401)

  for (let i = 0; i < config.lockoutThreshold; i++) {
    const wrong = await change({ new_email: uniqueEmail(), current_password: 'wrong-password-guess' })
    tt.equal(wrong.status, 400)
    tt.equal(wrong.body.code, 'invalid_password')
  }
  const locked = await change({ new_email: uniqueEmail(), current_password: PASSWORD })
  tt.equal(locked.body.code, 'invalid_password', 'locked: the right password is refused like a wrong one')
  tt.equal((await login(api, user.email)).body.code, 'invalid_credentials', 'login shares the lock')
  tt.equal((await api.get('/auth/users/me/', { token: user.token })).body.email, user.email, 'nothing changed')
  tt.equal(smtp.mails.length, 0, 'and nothing was mailed')
})

t.test('after an email change, reset mails, 2FA codes and new-device alerts go to the new address', async (tt) => {
  const built = await setup(tt)
  const { api, smtp } = built
  const user = await userWithDevice(api)
  await enableEmail(api, smtp, user)
  const newEmail = uniqueEmail('moved')
  const changed = await api.post(
    '/auth/users/change_username/',
    { new_email: newEmail, current_password: PASSWORD },
    { token: user.token },
  )
  tt.equal(changed.status, 204)
  await smtp.next(user.email, 0)

  let before = smtp.mails.length
  const first = await login(api, newEmail)
  tt.ok(first.body.ephemeral_token, 'the login asks for the emailed code')
  const code = await mailedCode(smtp, newEmail, before)
  const done = await api.post('/auth/login/code/', { ephemeral_token: first.body.ephemeral_token, code })
  tt.equal(done.status, 200, 'the code mailed to the new address logs in')

  before = smtp.mails.length
  const body = deviceBody(777_001, 'laptop.example', 5)
  const added = await api.post('/v2/devices/', { ...body, name: 'Laptop' }, { token: done.body.auth_token })
  tt.equal(added.status, 201)
  const alert = await smtp.next(newEmail, before)
  tt.match(alert.text, /a new device was added/, 'the new-device alert goes to the new address')

  before = smtp.mails.length
  tt.equal((await api.post('/auth/password/reset/', { email: newEmail })).status, 204)
  const reset = await smtp.next(newEmail, before)
  tt.match(reset.text, /auth\/password\/reset\/confirm\//, 'the reset link goes to the new address')
  tt.equal((await api.post('/auth/password/reset/', { email: user.email })).status, 204)
  const mailsToOld = () => smtp.mails.slice(before).filter((m) => m.to.includes(user.email.toLowerCase()))
  tt.same(mailsToOld(), [], 'the old address gets none')
})

t.test('a reset link mailed before an email change stops working', async (tt) => {
  const built = await setup(tt)
  const { api, smtp } = built
  const user = await signUp(api)
  tt.equal((await api.post('/auth/password/reset/', { email: user.email })).status, 204)
  const mail = await smtp.next(user.email, 0)
  const [, uid, token] = /\/auth\/password\/reset\/confirm\/([^/\s]+)\/([^/\s]+)\//.exec(mail.text)!
  const changed = await api.post(
    '/auth/email/',
    { new_email: uniqueEmail(), current_password: PASSWORD },
    { token: user.token },
  )
  tt.equal(changed.status, 204)
  const res = await api.post('/auth/password/reset/confirm/', { uid, token, new_password: NEW_PASSWORD })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_token')
})

t.test('verification on: sign-up mails a link; login says inactive_account only to the right password', async (tt) => {
  const built = await verifying(tt)
  const { api, smtp } = built
  const account = await signUpUnverified(built)
  tt.equal(account.uid, encodeUid(account.id))
  tt.ok(account.link.startsWith(`${PUBLIC_URL}/auth/activate/`), 'the link is under PUBLIC_URL')
  tt.match(account.mail.text, /Subject: .*activate your account/)
  tt.ok(multipart(account.mail.raw), 'plain text and HTML')

  const right = await login(api, account.email)
  tt.equal(right.status, 400)
  tt.equal(right.body.code, 'inactive_account')
  const wrong = await login(api, account.email, 'wrong-password-guess')
  tt.equal(wrong.body.code, 'invalid_credentials', 'a wrong password learns nothing')
  const unknown = await login(api, uniqueEmail())
  tt.equal(unknown.body.code, 'invalid_credentials')

  const before = smtp.mails.length
  tt.equal((await api.post('/auth/password/reset/', { email: account.email })).status, 204)
  const confirm = await api.post('/auth/users/confirm/', { uid: account.uid, token: account.token })
  tt.equal(confirm.status, 204)
  tt.equal(smtp.mails.length, before, 'no reset mail to an inactive account')

  const token = (await login(api, account.email)).body.auth_token
  tt.ok(token, 'the activated account logs in')
  tt.same((await api.get('/auth/users/me/', { token })).body, { id: account.id, email: account.email })

  const again = await api.post('/auth/users/activate/', { uid: account.uid, token: account.token })
  tt.equal(again.status, 403, 'the link works once (djoser 1.7 path)')
  tt.equal(again.body.code, 'already_active')
  const twice = await api.post('/auth/users/confirm/', { uid: account.uid, token: account.token })
  tt.equal(twice.status, 403, 'and at the djoser 2 path')
  tt.equal(twice.body.code, 'already_active')
})

t.test('activation: bad, foreign, expired and malformed tokens are invalid_token', async (tt) => {
  const built = await verifying(tt, { unverifiedAccountTtl: 3600 })
  const { api, config } = built
  const account = await signUpUnverified(built)
  const other = await signUpUnverified(built)
  const row = (await built.app.db.users.findById(account.id))!
  const expired = makeAccountToken(config.secretKey, 'activation', row, Date.now() - 3601_000)
  const cases: [string, unknown][] = [
    ['another account’s token', { uid: account.uid, token: other.token }],
    ['an unknown uid', { uid: encodeUid(999_999), token: account.token }],
    ['a malformed uid', { uid: '!!', token: account.token }],
    ['an expired token', { uid: account.uid, token: expired }],
    ['a malformed token', { uid: account.uid, token: 'not-a-token' }],
  ]
  for (const [what, body] of cases) {
    const res = await api.post('/auth/users/confirm/', body)
    tt.equal(res.status, 400, what)
    tt.equal(res.body.code, 'invalid_token', what)
  }
  const missing = await api.post('/auth/users/confirm/', { uid: account.uid })
  tt.equal(missing.body.code, 'invalid_data')
  tt.equal((await login(api, account.email)).body.code, 'inactive_account', 'still inactive')
  const young = makeAccountToken(config.secretKey, 'activation', row, Date.now() - 1800_000)
  tt.equal((await api.post('/auth/users/activate/', { uid: account.uid, token: young })).status, 204, 'control')
})

t.test('resend: 204 for anyone, a fresh link for an inactive account; activation_disabled when off', async (tt) => {
  const built = await verifying(tt)
  const { api, smtp } = built
  const account = await signUpUnverified(built)
  // A mail is started only after taking from the account's allowance, which happens before the answer.
  const took: number[] = []
  const take = built.app.lockout.take
  built.app.lockout.take = (scope, userId) => {
    took.push(userId)
    return take(scope, userId)
  }

  const before = smtp.mails.length
  tt.equal((await api.post('/auth/users/resend/', { email: uniqueEmail() })).status, 204, 'an unknown email')
  tt.equal((await api.post('/auth/users/resend/', { email: account.email.toUpperCase() })).status, 204)
  const fresh = await mailedLink(built, account.email, before)
  tt.equal(fresh.uid, account.uid)
  tt.same(took, [account.id], 'one mail started, for the inactive account only')
  tt.equal((await api.post('/auth/users/confirm/', { uid: fresh.uid, token: fresh.token })).status, 204)

  tt.equal((await api.post('/auth/users/resend/', { email: account.email })).status, 204, 'an active account')
  tt.same(took, [account.id], 'no mail to an active account')
  const bad = await api.post('/auth/users/resend/', { email: 'nope' })
  tt.equal(bad.body.code, 'invalid_data')

  const off = await setup(tt)
  const disabled = await off.api.post('/auth/users/resend/', { email: uniqueEmail() })
  tt.equal(disabled.status, 400)
  tt.equal(disabled.body.code, 'activation_disabled')
})

t.test('verification on: an email change waits for the new address to open its link', async (tt) => {
  const built = await verifying(tt)
  const { api, app, smtp } = built
  const user = await app.db.users.create(uniqueEmail(), await hashPassword(PASSWORD, 4))
  const token = (await login(api, user.email)).body.auth_token as string
  const newEmail = uniqueEmail('moved')
  const before = smtp.mails.length
  const res = await api.post(
    '/auth/users/change_username/',
    { new_email: newEmail, current_password: PASSWORD },
    { token },
  )
  tt.equal(res.status, 202)
  tt.same(res.body, { code: 'verification_sent', message: 'A confirmation link was sent to the new address.' })
  const link = await mailedLink(built, newEmail, before)
  tt.match(link.mail.text, /Subject: .*confirm your new email address/)
  tt.ok(multipart(link.mail.raw), 'plain text and HTML')
  tt.equal(smtp.mails.filter((m) => m.to.includes(user.email)).length, 0, 'no notice yet')
  tt.equal((await login(api, user.email)).status, 200, 'the old address still logs in')
  tt.equal((await login(api, newEmail)).body.code, 'invalid_credentials', 'the new one not yet')

  const noticeFrom = smtp.mails.length
  tt.equal((await api.post('/auth/users/confirm/', { uid: link.uid, token: link.token })).status, 204)
  const notice = await smtp.next(user.email, noticeFrom)
  tt.match(notice.text, newEmail, 'the old address is told, naming the new one')
  tt.equal((await login(api, newEmail)).status, 200, 'the new address logs in')
  tt.equal((await login(api, user.email)).body.code, 'invalid_credentials')
  const again = await api.post('/auth/users/confirm/', { uid: link.uid, token: link.token })
  tt.equal(again.status, 400, 'the link works once')
  tt.equal(again.body.code, 'invalid_token')
})

t.test('verification on: a new address taken before its link is opened is email_exists', async (tt) => {
  const built = await verifying(tt)
  const { api, app, smtp } = built
  const user = await app.db.users.create(uniqueEmail(), await hashPassword(PASSWORD, 4))
  const token = (await login(api, user.email)).body.auth_token as string
  const newEmail = uniqueEmail('wanted')
  const before = smtp.mails.length
  const res = await api.post('/auth/email/', { new_email: newEmail, current_password: PASSWORD }, { token })
  tt.equal(res.status, 202)
  const link = await mailedLink(built, newEmail, before)
  await app.db.users.create(newEmail, await hashPassword(PASSWORD, 4))
  const confirm = await api.post('/auth/users/confirm/', { uid: link.uid, token: link.token })
  tt.equal(confirm.status, 400)
  tt.equal(confirm.body.code, 'email_exists')
  tt.equal((await login(api, user.email)).status, 200, 'the account keeps its address')
})

t.test('the activation page: opening changes nothing; its button activates; strict CSP, no script', async (tt) => {
  const built = await verifying(tt)
  const { api } = built
  const account = await signUpUnverified(built)
  const page = await api.get(account.path)
  tt.equal(page.status, 200)
  tt.match(page.headers['content-type'], /^text\/html/)
  tt.match(page.text, /<h1>Activate your account<\/h1>/)
  tt.match(page.text, /<form method="post">/)
  tt.notMatch(page.text, /<script/i, 'no script')
  tt.match(String(page.headers['content-security-policy']), /default-src 'none'/)
  tt.notMatch(String(page.headers['content-security-policy']), /script-src/)
  tt.equal((await login(api, account.email)).body.code, 'inactive_account', 'opening the link changed nothing')

  const done = await api.post(account.path, undefined, { form: { confirm: '1' } })
  tt.equal(done.status, 200)
  tt.match(done.text, /<h1>Account activated<\/h1>/)
  tt.equal((await login(api, account.email)).status, 200)
  const reopened = await api.get(account.path)
  tt.match(reopened.text, /<h1>Account already active<\/h1>/)
  const bad = await api.post(`/auth/activate/${account.uid}/0-${'0'.repeat(40)}/`, undefined, { form: {} })
  tt.equal(bad.status, 400)
  tt.match(bad.text, /<h1>Link invalid<\/h1>/)
  const invalid = await api.get(`/auth/activate/${account.uid}/nonsense/`)
  tt.equal(invalid.status, 200)
  tt.match(invalid.text, /<h1>Link invalid<\/h1>/)
})

t.test('the purge deletes accounts never activated after UNVERIFIED_ACCOUNT_TTL, and only those', async (tt) => {
  const built = await verifying(tt, { unverifiedAccountTtl: 3600, messagePurgeInterval: 0 })
  const { app, api } = built
  const old = await signUpUnverified(built)
  const young = await signUpUnverified(built)
  const activated = await signUpUnverified(built)
  tt.equal((await api.post('/auth/users/confirm/', { uid: activated.uid, token: activated.token })).status, 204)
  const twoHoursAgo = Date.now() - 2 * 3600_000
  await app.db.knex('users').whereIn('id', [old.id, activated.id]).update({ created_at: twoHoursAgo })
  tt.equal(await app.messageExpiry.purgeUnverified(), 1)
  tt.equal(await app.db.users.findById(old.id), undefined, 'the old inactive account is gone')
  tt.ok(await app.db.users.findById(young.id), 'a young one stays')
  tt.ok(await app.db.users.findById(activated.id), 'an active one stays, whatever its age')
  tt.equal(await app.messageExpiry.purgeUnverified(), 0, 'nothing left')
  const again = await api.post('/auth/users/', { email: old.email, password: PASSWORD })
  tt.equal(again.status, 201, 'the address can sign up again')
})
