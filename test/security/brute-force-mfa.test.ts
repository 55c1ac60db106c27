import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, buildWithMail, signUp, type Api, type ApiResponse } from '../helper.js'
import { enableApp, enableEmail, fakeClock, mailedCode, nowSeconds, totp, wrongTotp } from '../mfa-helpers.js'
import { diff, snapshot } from './db-snapshot.js'

// Guessing 2FA codes: lockoutThreshold wrong codes lock the account's codes (scope 'mfa', shared by
// the login and the authenticated code operations) for lockoutDuration; a locked account's right
// code answers like a wrong one and uses nothing up. Ephemeral tokens log in once. Clock faked
// (fakeClock), so TOTP steps and the lock's end come without waiting.

const LOCK = { lockoutThreshold: 3, lockoutDuration: 60 }
const INVALID_CODE = { code: 'invalid_code', message: 'The code is invalid or has expired.' }
const INVALID_TOKEN = { code: 'invalid_token', message: 'The ephemeral token is invalid or has expired; log in again.' }
type User = { id: number; email: string; password: string; token: string }

async function challenge(api: Api, user: User): Promise<string> {
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  if (!login.body?.ephemeral_token) throw new Error(`no 2FA challenge: ${login.status} ${login.text}`)
  return login.body.ephemeral_token
}

const loginCode = (api: Api, ephemeral_token: string, code: string) =>
  api.post('/auth/login/code/', { ephemeral_token, code })

/** Sends a request that must be refused with `expected`; no row but auth_failures may change. */
async function refused(
  tt: Test,
  app: FastifyInstance,
  send: () => Promise<ApiResponse>,
  status: number,
  expected: object,
  label: string,
) {
  const before = await snapshot(app)
  const res = await send()
  tt.equal(res.status, status, `${label}: status`)
  tt.same(res.body, expected, `${label}: body`)
  tt.same(diff(before, await snapshot(app)), [], `${label}: nothing changed`)
  return res
}

/** A signed-up user with the app method active, and another such user beside them. */
async function appUsers(tt: Test) {
  const { app, api } = await build(tt, LOCK)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const other = await signUp(api)
  const { secret, backupCodes } = await enableApp(api, user.token, clock)
  const theirs = await enableApp(api, other.token, clock)
  return { app, api, clock, user, other, secret, backupCodes, theirs }
}

t.test(
  'login code (app): after lockoutThreshold wrong codes the right one is refused until the duration passes',
  async (tt) => {
    const { app, api, clock, user, other, secret, theirs } = await appUsers(tt)
    const ephemeral = await challenge(api, user)
    for (let i = 0; i < LOCK.lockoutThreshold; i++) {
      await refused(
        tt,
        app,
        async () => loginCode(api, ephemeral, await wrongTotp(secret)),
        400,
        INVALID_CODE,
        `wrong code ${i + 1}`,
      )
    }
    await refused(
      tt,
      app,
      async () => loginCode(api, ephemeral, await totp(secret)),
      400,
      INVALID_CODE,
      'right code while locked',
    )
    const second = await challenge(api, user)
    await refused(
      tt,
      app,
      async () => loginCode(api, second, await totp(secret)),
      400,
      INVALID_CODE,
      'a new challenge is locked too',
    )
    tt.equal(
      (await loginCode(api, await challenge(api, other), await totp(theirs.secret))).status,
      200,
      'another account is not locked',
    )

    clock.advance(LOCK.lockoutDuration - 5)
    await refused(
      tt,
      app,
      async () => loginCode(api, ephemeral, await totp(secret)),
      400,
      INVALID_CODE,
      'still locked near the end',
    )
    clock.advance(6)
    const res = await loginCode(api, ephemeral, await totp(secret))
    tt.equal(res.status, 200, 'the right code works once the duration has passed')
    tt.equal((await api.get('/auth/users/me/', { token: res.body.auth_token })).body.email, user.email)
  },
)

t.test(
  'login code (email): a locked account refuses the mailed code and keeps it until the duration passes',
  async (tt) => {
    const { app, api, smtp } = await buildWithMail(tt, LOCK)
    const clock = fakeClock(tt)
    const user = await signUp(api)
    await enableEmail(api, smtp, user)
    const before = smtp.mails.length
    const ephemeral = await challenge(api, user)
    const code = await mailedCode(smtp, user.email, before)
    const wrong = code === '000000' ? '000001' : '000000'
    for (let i = 0; i < LOCK.lockoutThreshold; i++)
      await refused(tt, app, () => loginCode(api, ephemeral, wrong), 400, INVALID_CODE, `wrong ${i + 1}`)
    await refused(tt, app, () => loginCode(api, ephemeral, code), 400, INVALID_CODE, 'mailed code while locked')
    clock.advance(LOCK.lockoutDuration + 1)
    tt.equal((await loginCode(api, ephemeral, code)).status, 200, 'the same mailed code works after the duration')
    const again = await challenge(api, user) // mails a new code: the old one must be dead either way
    await refused(tt, app, () => loginCode(api, again, code), 400, INVALID_CODE, 'and only once')
  },
)

t.test('login code: a burst of parallel guesses gets no more than lockoutThreshold codes checked', async (tt) => {
  const { api, app, user, secret } = await appUsers(tt)
  const ephemeral = await challenge(api, user)
  let checked = 0
  const consumeCode = app.mfa.consumeCode
  app.mfa.consumeCode = (method, code) => {
    checked++
    return consumeCode(method, code)
  }
  const valid = new Set(await Promise.all([-2, -1, 0, 1, 2].map((step) => totp(secret, nowSeconds() + 30 * step))))
  const guesses = Array.from({ length: 25 }, (_, i) => String(i * 7919).padStart(6, '0'))
    .filter((code) => !valid.has(code))
    .slice(0, 20)
  const burst = await Promise.all(guesses.map((code) => loginCode(api, ephemeral, code)))
  // Parallel uses of one ephemeral token queue on it: one that finds it claimed by a request in
  // flight answers invalid_token without looking at its code.
  tt.same(
    [...new Set(burst.map((r) => r.body.code))].filter((c) => c !== 'invalid_code' && c !== 'invalid_token'),
    [],
  )
  tt.ok(checked >= 1 && checked <= LOCK.lockoutThreshold, `codes checked: ${checked}, at most ${LOCK.lockoutThreshold}`)
})

t.test('backup codes: wrong ones count toward the lock, a right one is refused while locked and kept', async (tt) => {
  const { app, api, clock, user, secret, backupCodes } = await appUsers(tt)
  const ephemeral = await challenge(api, user)
  await refused(
    tt,
    app,
    async () => loginCode(api, ephemeral, await wrongTotp(secret)),
    400,
    INVALID_CODE,
    'wrong TOTP',
  )
  await refused(tt, app, () => loginCode(api, ephemeral, 'notabackup'), 400, INVALID_CODE, 'wrong backup code')
  await refused(tt, app, () => loginCode(api, ephemeral, 'zzzzzzzzzz'), 400, INVALID_CODE, 'wrong backup code')
  await refused(
    tt,
    app,
    () => loginCode(api, ephemeral, backupCodes[0]),
    400,
    INVALID_CODE,
    'right backup code while locked',
  )
  clock.advance(LOCK.lockoutDuration + 1)
  tt.equal(
    (await loginCode(api, ephemeral, backupCodes[0])).status,
    200,
    'the kept backup code works after the duration',
  )
})

t.test('used codes cannot be replayed: neither a TOTP code nor a backup code', async (tt) => {
  const { app, api, user, secret, backupCodes } = await appUsers(tt)
  const code = await totp(secret)
  tt.equal((await loginCode(api, await challenge(api, user), code)).status, 200)
  const [first, second] = [await challenge(api, user), await challenge(api, user)]
  await refused(tt, app, () => loginCode(api, first, code), 400, INVALID_CODE, 'replayed TOTP code')
  tt.equal((await loginCode(api, await challenge(api, user), backupCodes[5])).status, 200)
  await refused(tt, app, () => loginCode(api, second, backupCodes[5]), 400, INVALID_CODE, 'replayed backup code')
})

t.test('an ephemeral token that completed a login is dead, even with a fresh valid code', async (tt) => {
  const { app, api, clock, user, secret, backupCodes } = await appUsers(tt)
  const ephemeral = await challenge(api, user)
  tt.equal((await loginCode(api, ephemeral, await totp(secret))).status, 200)
  clock.advance(30)
  await refused(
    tt,
    app,
    async () => loginCode(api, ephemeral, await totp(secret)),
    400,
    INVALID_TOKEN,
    'used token, fresh TOTP code',
  )
  await refused(
    tt,
    app,
    () => loginCode(api, ephemeral, backupCodes[1]),
    400,
    INVALID_TOKEN,
    'used token, unused backup code',
  )
  tt.equal(
    (await loginCode(api, await challenge(api, user), await totp(secret))).status,
    200,
    'the fresh TOTP code was not used up',
  )
  tt.equal((await loginCode(api, await challenge(api, user), backupCodes[1])).status, 200, 'nor the backup code')
})

t.test('ephemeral tokens are not auth tokens, and auth tokens are not ephemeral tokens', async (tt) => {
  const { app, api, user, secret, backupCodes } = await appUsers(tt)
  const ephemeral = await challenge(api, user)
  const NOT_AUTHENTICATED = {
    code: 'not_authenticated',
    message: 'Authentication credentials were not provided or are invalid.',
  }
  await refused(
    tt,
    app,
    () => api.get('/auth/users/me/', { token: ephemeral }),
    401,
    NOT_AUTHENTICATED,
    'ephemeral as Bearer',
  )
  const code = await totp(secret)
  for (const url of ['/auth/app/deactivate/', '/auth/app/codes/regenerate/']) {
    await refused(
      tt,
      app,
      () => api.post(url, { code }, { token: ephemeral }),
      401,
      NOT_AUTHENTICATED,
      `ephemeral as Bearer at ${url}`,
    )
  }
  await refused(
    tt,
    app,
    async () => loginCode(api, user.token, await totp(secret)),
    400,
    INVALID_TOKEN,
    'auth token as ephemeral, right code',
  )
  await refused(
    tt,
    app,
    () => loginCode(api, user.token, backupCodes[0]),
    400,
    INVALID_TOKEN,
    'auth token as ephemeral, backup code',
  )
  tt.equal((await loginCode(api, ephemeral, await totp(secret))).status, 200, 'the code was not used up')
})

t.test('deactivate, regenerate and change primary are locked per account like the login code', async (tt) => {
  const { app, api, smtp } = await buildWithMail(tt, LOCK)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const other = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const theirs = await enableApp(api, other.token, clock)
  await enableEmail(api, smtp, user) // the app stays primary
  const token = { token: user.token }
  const operations = {
    deactivate: (code: string) => api.post('/auth/app/deactivate/', { code }, token),
    regenerate: (code: string) => api.post('/auth/app/codes/regenerate/', { code }, token),
    'change primary': (code: string) => api.post('/auth/mfa/change-primary-method/', { method: 'email', code }, token),
  }
  // One wrong code at each operation: together they reach the threshold.
  for (const [name, send] of Object.entries(operations)) {
    await refused(tt, app, async () => send(await wrongTotp(secret)), 400, INVALID_CODE, `${name}, wrong code`)
  }
  for (const [name, send] of Object.entries(operations)) {
    await refused(tt, app, async () => send(await totp(secret)), 400, INVALID_CODE, `${name}, right code while locked`)
  }
  const ephemeral = await challenge(api, user)
  await refused(
    tt,
    app,
    async () => loginCode(api, ephemeral, await totp(secret)),
    400,
    INVALID_CODE,
    'login code while locked',
  )
  const theirRegen = await api.post(
    '/auth/app/codes/regenerate/',
    { code: await totp(theirs.secret) },
    { token: other.token },
  )
  tt.equal(theirRegen.status, 200, 'another account is not locked')

  clock.advance(LOCK.lockoutDuration + 1)
  const regen = await operations.regenerate(await totp(secret))
  tt.equal(regen.status, 200, 'the right code works after the duration')
  tt.equal(regen.body.backup_codes.length, 8)
  clock.advance(30)
  tt.equal((await operations['change primary'](await totp(secret))).status, 204)
  const methods = await api.get('/auth/mfa/user-active-methods/', token)
  tt.same(methods.body, [
    { name: 'email', is_primary: true },
    { name: 'app', is_primary: false },
  ])
})

t.test('a lock at the login code also locks the authenticated operations of that account', async (tt) => {
  const { app, api, user, secret } = await appUsers(tt)
  const ephemeral = await challenge(api, user)
  for (let i = 0; i < LOCK.lockoutThreshold; i++) await loginCode(api, ephemeral, await wrongTotp(secret))
  const deactivate = async () => api.post('/auth/app/deactivate/', { code: await totp(secret) }, { token: user.token })
  await refused(tt, app, deactivate, 400, INVALID_CODE, 'deactivate with the right code')
})
