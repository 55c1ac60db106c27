import t from 'tap'
import { build, buildWithMail, signUp, type Api } from '../helper.js'
import { fakeClock, totp, wrongTotp, mailedCode, enableApp, enableEmail } from '../mfa-helpers.js'

type User = { email: string; password: string; token: string }

async function challenge(api: Api, user: User): Promise<string> {
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  if (!login.body?.ephemeral_token) throw new Error(`no 2FA challenge: ${login.status} ${login.text}`)
  return login.body.ephemeral_token
}

async function me(api: Api, token: string) {
  return api.get('/auth/users/me/', { token })
}

t.test('login with 2FA active answers an ephemeral token and the primary method, no auth token', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const res = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.equal(res.status, 200)
  tt.same(Object.keys(res.body).sort(), ['ephemeral_token', 'method'])
  tt.equal(res.body.method, 'app')
  tt.equal(smtp.mails.length, before, 'nothing is mailed when the app is primary')
})

t.test('with email primary the code is mailed at login and completes it', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.equal(login.status, 200)
  tt.equal(login.body.method, 'email')
  tt.notOk(login.body.auth_token)
  const code = await mailedCode(smtp, user.email, before)
  const res = await api.post('/auth/login/code/', { ephemeral_token: login.body.ephemeral_token, code })
  tt.equal(res.status, 200)
  tt.equal((await me(api, res.body.auth_token)).status, 200, 'the auth token works')
  const replay = await api.post('/auth/login/code/', { ephemeral_token: login.body.ephemeral_token, code })
  tt.equal(replay.status, 400)
  tt.equal(replay.body.code, 'invalid_token', 'the ephemeral token works once, and so its code')
})

t.test('a wrong password with 2FA active mails no code', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const res = await api.post('/auth/login/', { email: user.email, password: 'wrong-password-123' })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_credentials')
  tt.equal(smtp.mails.length, before)
})

t.test('a valid TOTP code completes the login once; as an integer too', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const ephemeral = await challenge(api, user)
  const code = await totp(secret)
  const res = await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code })
  tt.equal(res.status, 200)
  tt.same(Object.keys(res.body), ['auth_token'])
  tt.equal((await me(api, res.body.auth_token)).status, 200)
  const replay = await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code })
  tt.equal(replay.status, 400)
  tt.equal(replay.body.code, 'invalid_code', 'an accepted TOTP code is not accepted again')

  clock.advance(30)
  // JSON drops a leading zero of an integer; the server pads it back.
  const asInteger = await api.post('/auth/login/code/', {
    ephemeral_token: await challenge(api, user),
    code: Number(await totp(secret)),
  })
  tt.equal(asInteger.status, 200)
})

t.test('a backup code completes the login once', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { backupCodes } = await enableApp(api, user.token, clock)
  const res = await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code: backupCodes[3] })
  tt.equal(res.status, 200)
  tt.equal((await me(api, res.body.auth_token)).status, 200)
  const again = await api.post('/auth/login/code/', {
    ephemeral_token: await challenge(api, user),
    code: backupCodes[3],
  })
  tt.equal(again.status, 400)
  tt.equal(again.body.code, 'invalid_code')
  tt.equal(
    (await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code: backupCodes[4] })).status,
    200,
    'the others still work',
  )
})

t.test('a bad code is refused with invalid_code', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const other = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const { secret: otherSecret, backupCodes: otherBackup } = await enableApp(api, other.token, clock)
  const ephemeral = await challenge(api, user)
  for (const code of [await wrongTotp(secret), 'notabackupcode', otherBackup[0], await totp(otherSecret)]) {
    const res = await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code })
    tt.equal(res.status, 400, `code ${code}`)
    tt.equal(res.body.code, 'invalid_code', `code ${code}`)
  }
  tt.equal(
    (await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code: await totp(secret) })).status,
    200,
    'the token is still usable',
  )
})

t.test('a garbage, foreign or expired ephemeral token is refused with invalid_token', async (tt) => {
  const { api } = await build(tt, { ephemeralTokenTtl: 30 })
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { backupCodes } = await enableApp(api, user.token, clock)
  // Backup codes, so that only the token decides.
  for (const token of ['garbage', 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl', user.token]) {
    const res = await api.post('/auth/login/code/', { ephemeral_token: token, code: backupCodes[0] })
    tt.equal(res.status, 400, token)
    tt.equal(res.body.code, 'invalid_token', token)
  }
  const ephemeral = await challenge(api, user)
  clock.advance(31)
  const expired = await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code: backupCodes[0] })
  tt.equal(expired.status, 400)
  tt.equal(expired.body.code, 'invalid_token')
  tt.equal(
    (await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code: backupCodes[0] })).status,
    200,
    'the backup code was not used up',
  )
})

t.test('the ephemeral token is not an auth token', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  const ephemeral = await challenge(api, user)
  for (const authorization of [`Bearer ${ephemeral}`, `Token ${ephemeral}`]) {
    const res = await api.get('/auth/users/me/', { headers: { authorization } })
    tt.equal(res.status, 401, authorization.split(' ')[0])
    tt.equal(res.body.code, 'not_authenticated')
  }
  const mfa = await api.get('/auth/mfa/user-active-methods/', { token: ephemeral })
  tt.equal(mfa.status, 401)
})

t.test('a code of a secondary active method also completes the login', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const { secret } = await enableApp(api, user.token, clock)
  const before = smtp.mails.length
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.equal(login.body.method, 'email', 'email was first, so primary')
  await mailedCode(smtp, user.email, before)
  const res = await api.post('/auth/login/code/', {
    ephemeral_token: login.body.ephemeral_token,
    code: await totp(secret),
  })
  tt.equal(res.status, 200)
  tt.equal((await me(api, res.body.auth_token)).status, 200)
})

t.test('after deactivating every method, login answers an auth token and old ephemeral tokens die', async (tt) => {
  const { api, smtp } = await buildWithMail(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret, backupCodes } = await enableApp(api, user.token, clock)
  await enableEmail(api, smtp, user)
  const stale = await challenge(api, user)

  tt.equal((await api.post('/auth/app/deactivate/', { code: await totp(secret) }, { token: user.token })).status, 204)
  const before = smtp.mails.length
  await api.post('/auth/code/request/', { method: 'email' }, { token: user.token })
  const code = await mailedCode(smtp, user.email, before)
  tt.equal((await api.post('/auth/email/deactivate/', { code }, { token: user.token })).status, 204)

  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.equal(login.status, 200)
  tt.same(Object.keys(login.body), ['auth_token'])
  tt.equal((await me(api, login.body.auth_token)).status, 200)
  const late = await api.post('/auth/login/code/', { ephemeral_token: stale, code: backupCodes[0] })
  tt.equal(late.status, 400)
  tt.equal(late.body.code, 'invalid_token', 'a challenge for 2FA that no longer exists')
})
