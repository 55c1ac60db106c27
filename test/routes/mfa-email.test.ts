import t from 'tap'
import { buildWithMail, signUp, type Api } from '../helper.js'
import { fakeClock, totp, mailedCode, activeMethods, enableApp, enableEmail, type Smtp } from '../mfa-helpers.js'

/** A 6-digit code other than `code`. */
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

/** Asks for a fresh emailed code through the API and reads it from the mail. */
async function requestCode(api: Api, smtp: Smtp, user: { email: string; token: string }) {
  const before = smtp.mails.length
  const res = await api.post('/auth/code/request/', { method: 'email' }, { token: user.token })
  if (res.status !== 200) throw new Error(`code request failed: ${res.status} ${res.text}`)
  return mailedCode(smtp, user.email, before)
}

async function loginCode(api: Api, user: { email: string; password: string }, code: string | number) {
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  return api.post('/auth/login/code/', { ephemeral_token: login.body.ephemeral_token, code })
}

t.test('email activate mails a 6-digit code; confirming with it activates the method as primary', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  const before = smtp.mails.length
  const res = await api.post('/auth/email/activate/', undefined, { token: user.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.code, 'code_sent')
  const mail = await smtp.next(user.email, before)
  tt.same(mail.to, [user.email])
  const code = await mailedCode(smtp, user.email, before)
  tt.same(await activeMethods(api, user.token), [], 'pending until confirmed')

  const wrong = await api.post('/auth/email/activate/confirm/', { code: otherThan(code) }, { token: user.token })
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [])

  const confirmed = await api.post('/auth/email/activate/confirm/', { code }, { token: user.token })
  tt.equal(confirmed.status, 200)
  tt.equal(confirmed.body.backup_codes.length, 8)
  tt.equal(new Set(confirmed.body.backup_codes).size, 8)
  tt.same(await activeMethods(api, user.token), [{ name: 'email', is_primary: true }])
})

t.test('email confirmed after app is active but not primary', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  await enableEmail(api, smtp, user)
  tt.same(await activeMethods(api, user.token), [
    { name: 'app', is_primary: true },
    { name: 'email', is_primary: false },
  ])
})

t.test('an emailed code works once', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  const before = smtp.mails.length
  await api.post('/auth/email/activate/', undefined, { token: user.token })
  const code = await mailedCode(smtp, user.email, before)
  tt.equal((await api.post('/auth/email/activate/confirm/', { code }, { token: user.token })).status, 200)
  const replay = await api.post('/auth/email/codes/regenerate/', { code }, { token: user.token })
  tt.equal(replay.status, 400)
  tt.equal(replay.body.code, 'invalid_code')

  const fresh = await requestCode(api, smtp, user)
  tt.equal((await api.post('/auth/email/codes/regenerate/', { code: fresh }, { token: user.token })).status, 200)
  const again = await api.post('/auth/email/codes/regenerate/', { code: fresh }, { token: user.token })
  tt.equal(again.status, 400)
  tt.equal(again.body.code, 'invalid_code')
})

t.test('codes are accepted as integers', async (tt) => {
  const { api, app, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  const before = smtp.mails.length
  await api.post('/auth/email/activate/', undefined, { token: user.token })
  const code = await mailedCode(smtp, user.email, before)
  const res = await api.post('/auth/email/activate/confirm/', { code: Number(code) }, { token: user.token })
  tt.equal(res.status, 200)
  tt.same(await activeMethods(api, user.token), [{ name: 'email', is_primary: true }])

  // A code with a leading zero, planted so that the test does not depend on a lucky draw:
  // the integer 4321 must be read as "004321".
  await requestCode(api, smtp, user)
  await app.db
    .knex('mfa_methods')
    .where({ user_id: user.id, name: 'email' })
    .update({ email_code_hash: app.mfa.hashCode('004321') })
  const padded = await api.post('/auth/email/codes/regenerate/', { code: 4321 }, { token: user.token })
  tt.equal(padded.status, 200, 'the integer is left-padded to 6 digits')
})

t.test('an expired emailed code is refused', async (tt) => {
  const { api, app, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  const before = smtp.mails.length
  await api.post('/auth/email/activate/', undefined, { token: user.token })
  const code = await mailedCode(smtp, user.email, before)
  await app.db
    .knex('mfa_methods')
    .where({ user_id: user.id, name: 'email' })
    .update({ email_code_expires_at: Date.now() - 1000 })
  const res = await api.post('/auth/email/activate/confirm/', { code }, { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [])
})

t.test('requesting a code mails a fresh one and the previous one dies', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const res = await api.post('/auth/code/request/', { method: 'email' }, { token: user.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.code, 'code_sent')
  const first = await mailedCode(smtp, user.email, before)
  let second = await requestCode(api, smtp, user)
  while (second === first) second = await requestCode(api, smtp, user) // a one-in-a-million draw
  const old = await api.post('/auth/email/codes/regenerate/', { code: first }, { token: user.token })
  tt.equal(old.status, 400)
  tt.equal(old.body.code, 'invalid_code', 'the earlier code died')
  tt.equal((await api.post('/auth/email/codes/regenerate/', { code: second }, { token: user.token })).status, 200)
})

t.test('requesting a code for the app method mails nothing', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  const before = smtp.mails.length
  const res = await api.post('/auth/code/request/', { method: 'app' }, { token: user.token })
  tt.equal(res.status, 200)
  tt.equal(res.body.code, 'code_not_required')
  tt.equal(smtp.mails.length, before, 'no mail')
})

t.test('requesting a code for an inactive method is refused', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  const before = smtp.mails.length
  for (const method of ['email', 'app']) {
    const res = await api.post('/auth/code/request/', { method }, { token: user.token })
    tt.equal(res.status, 400, method)
    tt.equal(res.body.code, 'method_not_active', method)
  }
  tt.equal(smtp.mails.length, before, 'no mail')
})

t.test('activating the email method twice is refused', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const res = await api.post('/auth/email/activate/', undefined, { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'method_already_active')
  tt.equal(smtp.mails.length, before, 'no mail')
  tt.same(await activeMethods(api, user.token), [{ name: 'email', is_primary: true }])
})

t.test('changing the primary method needs a code of the current primary', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  await enableEmail(api, smtp, user)

  const emailCode = await requestCode(api, smtp, user)
  const withTargetCode = await api.post(
    '/auth/mfa/change-primary-method/',
    { method: 'email', code: emailCode },
    { token: user.token },
  )
  tt.equal(withTargetCode.status, 400)
  tt.equal(withTargetCode.body.code, 'invalid_code', "the target method's code is not the primary's")
  const wrong = await api.post(
    '/auth/mfa/change-primary-method/',
    { method: 'email', code: otherThan(await totp(secret)) },
    { token: user.token },
  )
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [
    { name: 'app', is_primary: true },
    { name: 'email', is_primary: false },
  ])

  const res = await api.post(
    '/auth/mfa/change-primary-method/',
    { method: 'email', code: await totp(secret) },
    { token: user.token },
  )
  tt.equal(res.status, 204)
  tt.same(await activeMethods(api, user.token), [
    { name: 'email', is_primary: true },
    { name: 'app', is_primary: false },
  ])
  const before = smtp.mails.length
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.equal(login.body.method, 'email')
  await mailedCode(smtp, user.email, before)
})

t.test('changing the primary to an inactive method is refused', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const code = await requestCode(api, smtp, user)
  const res = await api.post('/auth/mfa/change-primary-method/', { method: 'app', code }, { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'method_not_active')
  tt.same(await activeMethods(api, user.token), [{ name: 'email', is_primary: true }])
})

t.test('deactivating the primary makes the other method primary and kills its backup codes', async (tt) => {
  const { api, app, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret, backupCodes: appCodes } = await enableApp(api, user.token, clock)
  const { backupCodes: emailCodes } = await enableEmail(api, smtp, user)
  const appMethod = await app.db.knex('mfa_methods').where({ user_id: user.id, name: 'app' }).first()

  const res = await api.post('/auth/app/deactivate/', { code: await totp(secret) }, { token: user.token })
  tt.equal(res.status, 204)
  tt.same(await activeMethods(api, user.token), [{ name: 'email', is_primary: true }])
  tt.equal((await app.db.knex('mfa_backup_codes').where({ method_id: appMethod.id })).length, 0)
  const dead = await loginCode(api, user, appCodes[0])
  tt.equal(dead.status, 400)
  tt.equal(dead.body.code, 'invalid_code', "the deactivated method's backup code")
  tt.equal((await loginCode(api, user, emailCodes[0])).status, 200, "the remaining method's backup code")
})

t.test('deactivating the email method needs an emailed code', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const code = await requestCode(api, smtp, user)
  const wrong = await api.post('/auth/email/deactivate/', { code: otherThan(code) }, { token: user.token })
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [{ name: 'email', is_primary: true }])
  tt.equal((await api.post('/auth/email/deactivate/', { code }, { token: user.token })).status, 204)
  tt.same(await activeMethods(api, user.token), [])
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.ok(login.body.auth_token, 'no second factor any more')
})
