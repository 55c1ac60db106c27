import t from 'tap'
import { PASSWORD, build, deviceBody, signUp, uniqueEmail, type Api } from '../helper.js'
import { enableApp, fakeClock, totp, wrongTotp } from '../mfa-helpers.js'

// Every operation that asks for the current password counts each try toward the per-account
// lockout (the login's allowance): someone holding a stolen token guesses no faster than a login.
// At threshold 5, 20 wrong guesses and then the right password: refused, exactly as a wrong one,
// and nothing changed.

const THRESHOLD = 5
const WRONG = 'not-the-password-1'

type Case = {
  name: string
  method: 'POST' | 'DELETE'
  path: (user: { id: number }) => string
  body: (password: string) => unknown
  setup?: (api: Api, user: { email: string; token: string }) => Promise<void>
}

const cases: Case[] = [
  {
    name: 'POST /auth/users/set_password/',
    method: 'POST',
    path: () => '/auth/users/set_password/',
    body: (p) => ({ current_password: p, new_password: 'a-brand-new-password-42' }),
  },
  {
    name: 'POST /auth/password/ (djoser 1.7)',
    method: 'POST',
    path: () => '/auth/password/',
    body: (p) => ({ current_password: p, new_password: 'a-brand-new-password-42' }),
  },
  {
    name: 'DELETE /auth/users/me/',
    method: 'DELETE',
    path: () => '/auth/users/me/',
    body: (p) => ({ currentPassword: p }),
  },
  {
    name: 'POST /auth/users/delete/ (djoser 1.7)',
    method: 'POST',
    path: () => '/auth/users/delete/',
    body: (p) => ({ currentPassword: p }),
  },
  {
    name: 'DELETE /auth/users/{id}/',
    method: 'DELETE',
    path: (u) => `/auth/users/${u.id}/`,
    body: (p) => ({ currentPassword: p }),
  },
  {
    name: 'POST /auth/users/change_username/',
    method: 'POST',
    path: () => '/auth/users/change_username/',
    body: (p) => ({ new_email: uniqueEmail('changed'), current_password: p }),
  },
  {
    name: 'POST /auth/email/ (djoser 1.7)',
    method: 'POST',
    path: () => '/auth/email/',
    body: (p) => ({ new_email: uniqueEmail('changed'), current_password: p }),
  },
  {
    name: 'DELETE /v2/devices/{deviceId}/',
    method: 'DELETE',
    path: () => '/v2/devices/1/',
    body: (p) => ({ currentPassword: p }),
    setup: async (api, user) => {
      const res = await api.post('/device/', deviceBody(4242, `${user.email}.1`, 1), { token: user.token })
      if (res.status !== 201) throw new Error(`device: ${res.status}`)
    },
  },
]

for (const c of cases) {
  t.test(`${c.name}: 20 wrong passwords at threshold 5 keep the right one out`, async (tt) => {
    const { app, api } = await build(tt, { lockoutThreshold: THRESHOLD })
    const user = await signUp(api)
    await c.setup?.(api, user)
    const state = async () => ({
      user: await app.db.knex('users').where({ id: user.id }).first('email', 'password_hash'),
      devices: await app.db.knex('devices').where({ user_id: user.id }).count({ n: '*' }),
    })
    const before = await state()
    const send = (password: string) => api.request(c.method, c.path(user), c.body(password), { token: user.token })
    let wrongAnswer: unknown
    for (let i = 0; i < 20; i++) {
      const res = await send(WRONG)
      tt.equal(res.status, 400, `guess ${i + 1}: 400`)
      wrongAnswer = res.body
    }
    tt.same(wrongAnswer, { code: 'invalid_password', message: 'The password is wrong.' })
    const right = await send(PASSWORD)
    tt.same([right.status, right.body], [400, wrongAnswer], 'the right password, locked: exactly a wrong one')
    tt.same(await state(), before, 'nothing changed')
    const login = await api.post('/auth/login/', { email: user.email, password: PASSWORD })
    tt.equal(login.status, 400, 'and the same allowance guards the login')
  })
}

t.test('an authenticated 2FA code check: 20 wrong codes at threshold 5 keep the right one out', async (tt) => {
  const clock = fakeClock(tt)
  const { app, api } = await build(tt, { lockoutThreshold: THRESHOLD })
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  for (let i = 0; i < 20; i++) {
    const res = await api.post('/auth/app/deactivate/', { code: await wrongTotp(secret) }, { token: user.token })
    tt.same([res.status, res.body.code], [400, 'invalid_code'], `guess ${i + 1}`)
  }
  const right = await api.post('/auth/app/deactivate/', { code: await totp(secret) }, { token: user.token })
  tt.same([right.status, right.body.code], [400, 'invalid_code'], 'the right code, locked: as a wrong one')
  const method = await app.db.knex('mfa_methods').where({ user_id: user.id, name: 'app' }).first('is_active')
  tt.ok(method.is_active, 'the method is still active')
})
