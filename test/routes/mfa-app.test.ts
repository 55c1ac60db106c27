import t from 'tap'
import QRCode from 'qrcode'
import { build, signUp, type Api } from '../helper.js'
import { fakeClock, nowSeconds, totp, secretOf, wrongTotp, activeMethods, enableApp } from '../mfa-helpers.js'
import { normalizeCode } from '../../lib/mfa-codes.js'

async function loginCode(api: Api, email: string, password: string, code: string | number) {
  const login = await api.post('/auth/login/', { email, password })
  return api.post('/auth/login/code/', { ephemeral_token: login.body.ephemeral_token, code })
}

t.test('app activate answers an otpauth URI with the configured issuer and a QR picture of it', async (tt) => {
  const { api, app } = await build(tt, { applicationName: 'Test Messenger' })
  const user = await signUp(api)
  const res = await api.post('/auth/app/activate/', undefined, { token: user.token })
  tt.equal(res.status, 200)
  tt.same(Object.keys(res.body).sort(), ['qr_code', 'qr_link'])
  const link = new URL(res.body.qr_link)
  tt.equal(link.protocol, 'otpauth:')
  tt.equal(link.host, 'totp')
  const label = decodeURIComponent(link.pathname.replace(/^\//, ''))
  tt.equal(label, `Test Messenger:${user.email}`)
  tt.equal(link.searchParams.get('issuer'), 'Test Messenger')
  tt.equal(link.searchParams.get('period'), '30')
  tt.equal(link.searchParams.get('digits'), '6')
  tt.equal(link.searchParams.get('algorithm'), 'SHA1')
  tt.match(link.searchParams.get('secret'), /^[A-Z2-7]{16,}=*$/, 'a base32 secret')
  tt.ok(res.body.qr_code.startsWith('data:image/png;base64,'))
  const png = Buffer.from(res.body.qr_code.slice('data:image/png;base64,'.length), 'base64')
  tt.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG picture')
  // qrcode renders deterministically, so an identical picture proves it encodes qr_link.
  tt.equal(res.body.qr_code, await QRCode.toDataURL(res.body.qr_link))

  tt.same(await activeMethods(api, user.token), [], 'pending until confirmed')
  const row = await app.db.knex('mfa_methods').where({ user_id: user.id, name: 'app' }).first()
  tt.equal(Boolean(row.is_active), false)
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.ok(login.body.auth_token, 'login still needs no second factor')
})

t.test('app confirm with a wrong code is refused and the method stays inactive', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const activated = await api.post('/auth/app/activate/', undefined, { token: user.token })
  const res = await api.post(
    '/auth/app/activate/confirm/',
    { code: await wrongTotp(secretOf(activated.body.qr_link)) },
    { token: user.token },
  )
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [])
  const garbage = await api.post('/auth/app/activate/confirm/', { code: 'abc' }, { token: user.token })
  tt.equal(garbage.status, 400)
  tt.equal(garbage.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [])
})

t.test('app confirm with the right code activates it as primary and answers 8 distinct backup codes', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { backupCodes } = await enableApp(api, user.token, clock)
  tt.equal(backupCodes.length, 8)
  tt.equal(new Set(backupCodes).size, 8, 'distinct')
  for (const code of backupCodes) tt.match(code, /^[0-9a-zA-Z-]{6,32}$/, 'a code the Code schema accepts')
  tt.same(await activeMethods(api, user.token), [{ name: 'app', is_primary: true }])
})

t.test('confirming a method that was never activated is refused', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const res = await api.post('/auth/app/activate/confirm/', { code: '123456' }, { token: user.token })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'method_not_active')
  tt.same(await activeMethods(api, user.token), [])
})

t.test('backup codes are stored hashed', async (tt) => {
  const { api, app } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { backupCodes } = await enableApp(api, user.token, clock)
  const method = await app.db.knex('mfa_methods').where({ user_id: user.id, name: 'app' }).first()
  const rows = await app.db.knex('mfa_backup_codes').where({ method_id: method.id })
  tt.equal(rows.length, 8)
  const stored = JSON.stringify(await app.db.knex('mfa_backup_codes').select())
  for (const code of backupCodes) tt.notOk(stored.toLowerCase().includes(code.toLowerCase()), `no plaintext ${code}`)
})

t.test('a TOTP code is accepted once, and never after a later one', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const activated = await api.post('/auth/app/activate/', undefined, { token: user.token })
  const secret = secretOf(activated.body.qr_link)
  const first = await totp(secret)
  tt.equal((await api.post('/auth/app/activate/confirm/', { code: first }, { token: user.token })).status, 200)
  const replay = await api.post('/auth/app/codes/regenerate/', { code: first }, { token: user.token })
  tt.equal(replay.status, 400)
  tt.equal(replay.body.code, 'invalid_code', 'the confirm code cannot be replayed')

  clock.advance(30)
  const previous = await totp(secret, nowSeconds() - 30) // still inside the drift window
  const second = await totp(secret)
  tt.equal((await api.post('/auth/app/codes/regenerate/', { code: second }, { token: user.token })).status, 200)
  tt.equal(
    (await api.post('/auth/app/codes/regenerate/', { code: second }, { token: user.token })).body.code,
    'invalid_code',
  )
  const older = await api.post('/auth/app/codes/regenerate/', { code: previous }, { token: user.token })
  tt.equal(older.status, 400)
  tt.equal(older.body.code, 'invalid_code', 'a code of an earlier step than the last accepted one')
})

t.test('activating an already active method is refused and changes nothing', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const again = await api.post('/auth/app/activate/', undefined, { token: user.token })
  tt.equal(again.status, 400)
  tt.equal(again.body.code, 'method_already_active')
  const confirm = await api.post('/auth/app/activate/confirm/', { code: await totp(secret) }, { token: user.token })
  tt.equal(confirm.status, 400)
  tt.equal(confirm.body.code, 'method_already_active')
  tt.same(await activeMethods(api, user.token), [{ name: 'app', is_primary: true }])
  clock.advance(30)
  const login = await loginCode(api, user.email, user.password, await totp(secret))
  tt.equal(login.status, 200, 'the original secret still works')
})

t.test('regenerating backup codes needs a valid code; new codes replace the old ones', async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret, backupCodes: old } = await enableApp(api, user.token, clock)

  const wrong = await api.post('/auth/app/codes/regenerate/', { code: await wrongTotp(secret) }, { token: user.token })
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_code')
  tt.equal(
    (await loginCode(api, user.email, user.password, old[0])).status,
    200,
    'a refused regenerate keeps the old codes',
  )

  const res = await api.post('/auth/app/codes/regenerate/', { code: await totp(secret) }, { token: user.token })
  tt.equal(res.status, 200)
  const fresh: string[] = res.body.backup_codes
  tt.equal(fresh.length, 8)
  tt.equal(new Set(fresh).size, 8)
  tt.same(
    fresh.filter((c) => old.includes(c)),
    [],
    'all new',
  )
  const dead = await loginCode(api, user.email, user.password, old[1])
  tt.equal(dead.status, 400)
  tt.equal(dead.body.code, 'invalid_code', 'an old code died')
  tt.equal((await loginCode(api, user.email, user.password, fresh[0])).status, 200)
})

t.test('deactivating needs a valid code of that method; then login needs no second factor', async (tt) => {
  const { api, app } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const method = await app.db.knex('mfa_methods').where({ user_id: user.id, name: 'app' }).first()

  const wrong = await api.post('/auth/app/deactivate/', { code: await wrongTotp(secret) }, { token: user.token })
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_code')
  tt.same(await activeMethods(api, user.token), [{ name: 'app', is_primary: true }], 'still active')

  const res = await api.post('/auth/app/deactivate/', { code: await totp(secret) }, { token: user.token })
  tt.equal(res.status, 204)
  tt.same(await activeMethods(api, user.token), [])
  tt.equal(
    (await app.db.knex('mfa_backup_codes').where({ method_id: method.id })).length,
    0,
    'its backup codes are gone',
  )
  const login = await api.post('/auth/login/', { email: user.email, password: user.password })
  tt.equal(login.status, 200)
  tt.ok(login.body.auth_token)
  tt.notOk(login.body.ephemeral_token)
})

t.test('deactivating or regenerating for an inactive method is refused', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  await api.post('/auth/app/activate/', undefined, { token: user.token }) // pending is not active
  for (const path of [
    '/auth/app/deactivate/',
    '/auth/app/codes/regenerate/',
    '/auth/email/deactivate/',
    '/auth/email/codes/regenerate/',
  ]) {
    const res = await api.post(path, { code: '123456' }, { token: user.token })
    tt.equal(res.status, 400, path)
    tt.equal(res.body.code, 'method_not_active', path)
  }
})

t.test('GET /auth/mfa/config/ describes the methods and code rules', async (tt) => {
  const { api } = await build(tt, { applicationName: 'Test Messenger', emailCodeTtl: 300 })
  const user = await signUp(api)
  const res = await api.get('/auth/mfa/config/', { token: user.token })
  tt.equal(res.status, 200)
  tt.same(res.body, {
    methods: ['email', 'app'],
    application_issuer_name: 'Test Messenger',
    backup_codes_count: 8,
    allow_backup_codes_regeneration: true,
    email_code_validity_seconds: 300,
    totp: { digits: 6, period: 30, algorithm: 'SHA1' },
  })
})

t.test('an unknown method in the path is 404 not_found', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  for (const path of [
    '/auth/sms/activate/',
    '/auth/sms/activate/confirm/',
    '/auth/sms/deactivate/',
    '/auth/sms/codes/regenerate/',
  ]) {
    const body = path === '/auth/sms/activate/' ? undefined : { code: '123456' }
    const res = await api.post(path, body, { token: user.token })
    tt.equal(res.status, 404, path)
    tt.equal(res.body.code, 'not_found', path)
  }
  const request = await api.post('/auth/code/request/', { method: 'sms' }, { token: user.token })
  tt.equal(request.status, 400)
  tt.equal(request.body.code, 'invalid_data')
  tt.same(await activeMethods(api, user.token), [])
})

t.test('every 2FA operation needs an auth token', async (tt) => {
  const { api } = await build(tt)
  const calls: [string, string, unknown][] = [
    ['POST', '/auth/app/activate/', undefined],
    ['POST', '/auth/email/activate/', undefined],
    ['POST', '/auth/app/activate/confirm/', { code: '123456' }],
    ['POST', '/auth/app/deactivate/', { code: '123456' }],
    ['POST', '/auth/app/codes/regenerate/', { code: '123456' }],
    ['POST', '/auth/code/request/', { method: 'email' }],
    ['GET', '/auth/mfa/config/', undefined],
    ['GET', '/auth/mfa/user-active-methods/', undefined],
    ['POST', '/auth/mfa/change-primary-method/', { method: 'app', code: '123456' }],
  ]
  for (const [method, url, body] of calls) {
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }] as Record<string, string>[]) {
      const res = await api.request(method, url, body, { headers })
      tt.equal(res.status, 401, `${method} ${url} ${JSON.stringify(headers)}`)
      tt.equal(res.body.code, 'not_authenticated')
    }
  }
})

t.test("Djoser's other login endpoints do not exist, so 2FA cannot be bypassed", async (tt) => {
  const { api } = await build(tt)
  const clock = fakeClock(tt)
  const user = await signUp(api)
  await enableApp(api, user.token, clock)
  for (const url of ['/auth/token/login/', '/auth/token/login', '/auth/jwt/create/', '/auth/jwt/create']) {
    const res = await api.post(url, { email: user.email, password: user.password, username: user.email })
    tt.equal(res.status, 404, url)
    tt.notOk(res.body?.auth_token ?? res.body?.access, url)
  }
})

t.test('normalizeCode pads integers and tidies strings', async (tt) => {
  tt.equal(normalizeCode(12345), '012345', 'an integer loses its leading zero in JSON; it is padded back')
  tt.equal(normalizeCode(0), '000000')
  tt.equal(normalizeCode(7), '000007')
  tt.equal(normalizeCode(123456), '123456')
  tt.equal(normalizeCode('012345'), '012345', 'a string keeps its zeros')
  tt.equal(normalizeCode(' 654321 '), '654321')
  tt.equal(normalizeCode('AbCdEf2345'), 'abcdef2345', 'backup codes are case-insensitive')
})
