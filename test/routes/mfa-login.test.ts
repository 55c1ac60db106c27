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

t.test('login with 2FA active answers an ephemeral token and the primary method, no auth token', async (t) => {
  const { api, smtp } = await buildWithMail(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const res = await api.post('/auth/login/', { email: user.email, password: user.password })
  t.equal(res.status, 200)
  t.same(Object.keys(res.body).sort(), ['ephemeral_token', 'method'])
  t.equal(res.body.method, 'app')
  t.equal(smtp.mails.length, before, 'nothing is mailed when the app is primary')
})

t.test('with email primary the code is mailed at login and completes it', async (t) => {
  const { api, smtp } = await buildWithMail(t)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  t.equal(login.status, 200)
  t.equal(login.body.method, 'email')
  t.notOk(login.body.auth_token)
  const code = await mailedCode(smtp, user.email, before)
  const res = await api.post('/auth/login/code/', { ephemeral_token: login.body.ephemeral_token, code })
  t.equal(res.status, 200)
  t.equal((await me(api, res.body.auth_token)).status, 200, 'the auth token works')
  const replay = await api.post('/auth/login/code/', { ephemeral_token: login.body.ephemeral_token, code })
  t.equal(replay.status, 400)
  t.equal(replay.body.code, 'invalid_token', 'the ephemeral token works once, and so its code')
})

t.test('a wrong password with 2FA active mails no code', async (t) => {
  const { api, smtp } = await buildWithMail(t)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const before = smtp.mails.length
  const res = await api.post('/auth/login/', { email: user.email, password: 'wrong-password-123' })
  t.equal(res.status, 400)
  t.equal(res.body.code, 'invalid_credentials')
  t.equal(smtp.mails.length, before)
})

t.test('a valid TOTP code completes the login once; as an integer too', async (t) => {
  const { api } = await build(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const ephemeral = await challenge(api, user)
  const code = await totp(secret)
  const res = await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code })
  t.equal(res.status, 200)
  t.same(Object.keys(res.body), ['auth_token'])
  t.equal((await me(api, res.body.auth_token)).status, 200)
  const replay = await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code })
  t.equal(replay.status, 400)
  t.equal(replay.body.code, 'invalid_code', 'an accepted TOTP code is not accepted again')

  clock.advance(30)
  // JSON drops a leading zero of an integer; the server pads it back.
  const asInteger = await api.post('/auth/login/code/', {
    ephemeral_token: await challenge(api, user),
    code: Number(await totp(secret)),
  })
  t.equal(asInteger.status, 200)
})

t.test('a backup code completes the login once', async (t) => {
  const { api } = await build(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  const { backupCodes } = await enableApp(api, user.token, clock)
  const res = await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code: backupCodes[3] })
  t.equal(res.status, 200)
  t.equal((await me(api, res.body.auth_token)).status, 200)
  const again = await api.post('/auth/login/code/', {
    ephemeral_token: await challenge(api, user),
    code: backupCodes[3],
  })
  t.equal(again.status, 400)
  t.equal(again.body.code, 'invalid_code')
  t.equal(
    (await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code: backupCodes[4] })).status,
    200,
    'the others still work',
  )
})

t.test('a bad code is refused with invalid_code', async (t) => {
  const { api } = await build(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  const other = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const { secret: otherSecret, backupCodes: otherBackup } = await enableApp(api, other.token, clock)
  const ephemeral = await challenge(api, user)
  for (const code of [await wrongTotp(secret), 'notabackupcode', otherBackup[0], await totp(otherSecret)]) {
    const res = await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code })
    t.equal(res.status, 400, `code ${code}`)
    t.equal(res.body.code, 'invalid_code', `code ${code}`)
  }
  t.equal(
    (await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code: await totp(secret) })).status,
    200,
    'the token is still usable',
  )
})

t.test('a garbage, foreign or expired ephemeral token is refused with invalid_token', async (t) => {
  const { api } = await build(t, { ephemeralTokenTtl: 30 })
  const clock = fakeClock(t)
  const user = await signUp(api)
  const { backupCodes } = await enableApp(api, user.token, clock)
  // Backup codes, so that only the token decides.
  for (const token of ['garbage', 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl', user.token]) {
    const res = await api.post('/auth/login/code/', { ephemeral_token: token, code: backupCodes[0] })
    t.equal(res.status, 400, token)
    t.equal(res.body.code, 'invalid_token', token)
  }
  const ephemeral = await challenge(api, user)
  clock.advance(31)
  const expired = await api.post('/auth/login/code/', { ephemeral_token: ephemeral, code: backupCodes[0] })
  t.equal(expired.status, 400)
  t.equal(expired.body.code, 'invalid_token')
  t.equal(
    (await api.post('/auth/login/code/', { ephemeral_token: await challenge(api, user), code: backupCodes[0] })).status,
    200,
    'the backup code was not used up',
  )
})

t.test('the ephemeral token is not an auth token', async (t) => {
  const { api } = await build(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  const ephemeral = await challenge(api, user)
  for (const authorization of [`Bearer ${ephemeral}`, `Token ${ephemeral}`]) {
    const res = await api.get('/auth/users/me/', { headers: { authorization } })
    t.equal(res.status, 401, authorization.split(' ')[0])
    t.equal(res.body.code, 'not_authenticated')
  }
  const mfa = await api.get('/auth/mfa/user-active-methods/', { token: ephemeral })
  t.equal(mfa.status, 401)
})

t.test('a code of a secondary active method also completes the login', async (t) => {
  const { api, smtp } = await buildWithMail(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  await enableEmail(api, smtp, user)
  const { secret } = await enableApp(api, user.token, clock)
  const before = smtp.mails.length
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  t.equal(login.body.method, 'email', 'email was first, so primary')
  await mailedCode(smtp, user.email, before)
  const res = await api.post('/auth/login/code/', {
    ephemeral_token: login.body.ephemeral_token,
    code: await totp(secret),
  })
  t.equal(res.status, 200)
  t.equal((await me(api, res.body.auth_token)).status, 200)
})

t.test('after deactivating every method, login answers an auth token and old ephemeral tokens die', async (t) => {
  const { api, smtp } = await buildWithMail(t)
  const clock = fakeClock(t)
  const user = await signUp(api)
  const { secret, backupCodes } = await enableApp(api, user.token, clock)
  await enableEmail(api, smtp, user)
  const stale = await challenge(api, user)

  t.equal((await api.post('/auth/app/deactivate/', { code: await totp(secret) }, { token: user.token })).status, 204)
  const before = smtp.mails.length
  await api.post('/auth/code/request/', { method: 'email' }, { token: user.token })
  const code = await mailedCode(smtp, user.email, before)
  t.equal((await api.post('/auth/email/deactivate/', { code }, { token: user.token })).status, 204)

  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  t.equal(login.status, 200)
  t.same(Object.keys(login.body), ['auth_token'])
  t.equal((await me(api, login.body.auth_token)).status, 200)
  const late = await api.post('/auth/login/code/', { ephemeral_token: stale, code: backupCodes[0] })
  t.equal(late.status, 400)
  t.equal(late.body.code, 'invalid_token', 'a challenge for 2FA that no longer exists')
})
