import { createHmac } from 'node:crypto'
import t from 'tap'
import { build, PASSWORD, signUp, uniqueEmail, type Api } from '../helper.js'

const login = (api: Api, email: string, password: string) => api.post('/auth/login/', { email, password })

t.test('login answers 200 {auth_token} and the token authenticates', async (tt) => {
  const { api } = await build(tt)
  const email = uniqueEmail()
  const created = await api.post('/auth/users/', { email, password: PASSWORD })
  tt.equal(created.status, 201)
  const res = await login(api, email, PASSWORD)
  tt.equal(res.status, 200)
  tt.same(Object.keys(res.body), ['auth_token'])
  tt.type(res.body.auth_token, 'string')
  const me = await api.get('/auth/users/me/', { token: res.body.auth_token })
  tt.equal(me.status, 200)
  tt.same(me.body, { id: created.body.id, email: created.body.email })
})

t.test('each login opens a session of its own', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  const second = await login(api, user.email, user.password)
  tt.equal(second.status, 200)
  tt.not(second.body.auth_token, user.token)
  tt.equal((await app.db.knex('sessions').where({ user_id: user.id })).length, 2)
})

t.test('wrong password and unknown email give the same 400 invalid_credentials', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  const wrong = await login(api, user.email, 'not-the-right-password')
  const unknown = await login(api, uniqueEmail('nobody'), PASSWORD)
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_credentials')
  tt.equal(unknown.status, 400)
  tt.same(unknown.body, wrong.body, 'an unknown email cannot be told apart from a wrong password')
  tt.same(unknown.headers['content-type'], wrong.headers['content-type'])
  // The failed logins opened nothing.
  tt.equal((await app.db.knex('sessions').where({ user_id: user.id })).length, 1)
})

t.test('login accepts the email in another case', async (tt) => {
  const { api } = await build(tt)
  const email = uniqueEmail('MixedCase')
  const user = await signUp(api, email)
  for (const variant of [email.toUpperCase(), email.toLowerCase()]) {
    const res = await login(api, variant, user.password)
    tt.equal(res.status, 200, variant)
    const me = await api.get('/auth/users/me/', { token: res.body.auth_token })
    tt.equal(me.body.id, user.id)
  }
})

t.test('the password is case-sensitive', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const res = await login(api, user.email, PASSWORD.toUpperCase())
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_credentials')
})

t.test('login body violations are 400 invalid_data naming the field; bad JSON is parse_error', async (tt) => {
  const { api } = await build(tt)
  const missing = await api.post('/auth/login/', { email: uniqueEmail() })
  tt.equal(missing.status, 400)
  tt.equal(missing.body.code, 'invalid_data')
  tt.ok(missing.body.errors.some((e: { field: string }) => e.field === 'body.password'))
  const extra = await api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD, otp: '123456' })
  tt.equal(extra.status, 400)
  tt.equal(extra.body.code, 'invalid_data')
  tt.ok(extra.body.errors.some((e: { field: string }) => e.field === 'body.otp'))
  const parse = await api.post('/auth/login/', undefined, {
    raw: '{"email": "a@example.com", ',
    headers: { 'content-type': 'application/json' },
  })
  tt.equal(parse.status, 400)
  tt.equal(parse.body.code, 'parse_error')
})

t.test('Authorization: Token <t> works as well as Bearer, and the scheme is case-insensitive', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  for (const scheme of ['Token', 'Bearer', 'token', 'bearer']) {
    const me = await api.get('/auth/users/me/', { headers: { authorization: `${scheme} ${user.token}` } })
    tt.equal(me.status, 200, scheme)
    tt.equal(me.body.id, user.id, scheme)
  }
})

t.test('missing, malformed and forged tokens are 401 not_authenticated', async (tt) => {
  const { api, app, config } = await build(tt)
  const user = await signUp(api)
  const [header, payload, sig] = user.token.split('.')
  const flipped = sig[0] === 'A' ? 'B' + sig.slice(1) : 'A' + sig.slice(1)
  const cases: Record<string, Record<string, string>> = {
    'no header': {},
    'empty bearer': { authorization: 'Bearer ' },
    'token without scheme': { authorization: user.token },
    'unknown scheme': { authorization: `Basic ${user.token}` },
    garbage: { authorization: 'Bearer not-a-token' },
    'tampered signature': { authorization: `Bearer ${header}.${payload}.${flipped}` },
    'signed with another key': {
      authorization: `Bearer ${otherKeyToken(user.id, app.jwt.decode<{ sid: string }>(user.token)!.sid)}`,
    },
  }
  for (const [name, headers] of Object.entries(cases)) {
    const res = await api.get('/auth/users/me/', { headers })
    tt.equal(res.status, 401, name)
    tt.equal(res.body.code, 'not_authenticated', name)
  }
  // The real token still works: the 401s above were about the headers, not the user.
  tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 200)
  // Control: the same hand-made token signed with the server's own key is accepted.
  const serverKey = createHmac('sha256', config.secretKey).update('auth-tokens').digest()
  const control = otherKeyToken(user.id, app.jwt.decode<{ sid: string }>(user.token)!.sid, serverKey)
  tt.equal((await api.get('/auth/users/me/', { token: control })).status, 200)
})

t.test('an expired token is 401 even while its session lives', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  const { sid } = app.jwt.decode<{ sid: string }>(user.token)!
  const expired = app.jwt.sign({ sub: String(user.id), typ: 'auth', sid }, { expiresIn: -10 })
  const res = await api.get('/auth/users/me/', { token: expired })
  tt.equal(res.status, 401)
  tt.equal(res.body.code, 'not_authenticated')
  // Control: the same claims without the past expiry are accepted, so the expiry is what failed.
  const fresh = app.jwt.sign({ sub: String(user.id), typ: 'auth', sid }, { expiresIn: 60 })
  tt.equal((await api.get('/auth/users/me/', { token: fresh })).status, 200)
})

t.test('a session past its server-side expiry is 401 even with a valid JWT', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  await app.db
    .knex('sessions')
    .where({ user_id: user.id })
    .update({ expires_at: Date.now() - 1000 })
  const res = await api.get('/auth/users/me/', { token: user.token })
  tt.equal(res.status, 401)
  tt.equal(res.body.code, 'not_authenticated')
})

t.test('a token naming another user than its session is refused', async (tt) => {
  const { api, app } = await build(tt)
  const alice = await signUp(api)
  const bob = await signUp(api)
  const { sid } = app.jwt.decode<{ sid: string }>(alice.token)!
  const forged = app.jwt.sign({ sub: String(bob.id), typ: 'auth', sid }, { expiresIn: 60 })
  const res = await api.get('/auth/users/me/', { token: forged })
  tt.equal(res.status, 401)
  tt.equal(res.body.code, 'not_authenticated')
})

t.test('an ephemeral (2FA) token or a token of another type is not an auth token', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  const { sid } = app.jwt.decode<{ sid: string }>(user.token)!
  const ephemeral = app.auth.issueEphemeralToken(user.id)
  const tokens = {
    ephemeral,
    'mfa typ with a live sid': app.jwt.sign({ sub: String(user.id), typ: 'mfa', sid }, { expiresIn: 60 }),
    'no typ': app.jwt.sign({ sub: String(user.id), sid } as never, { expiresIn: 60 }),
    'no sid': app.jwt.sign({ sub: String(user.id), typ: 'auth' }, { expiresIn: 60 }),
  }
  for (const [name, token] of Object.entries(tokens)) {
    const res = await api.get('/auth/users/me/', { token })
    tt.equal(res.status, 401, name)
    tt.equal(res.body.code, 'not_authenticated', name)
  }
  // Nor does the auth token pass as an ephemeral token.
  const code = await api.post('/auth/login/code/', { ephemeral_token: user.token, code: '123456' })
  tt.equal(code.status, 400)
  tt.equal(code.body.code, 'invalid_token')
})

t.test('logout: 204, that token is dead at once, another session of the same user stays', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const out = await api.post('/auth/logout/', undefined, { token: user.token })
  tt.equal(out.status, 204)
  tt.equal(out.text, '')
  for (const [method, url] of [
    ['GET', '/auth/users/me/'],
    ['POST', '/auth/logout/'],
  ] as const) {
    const res = await api.request(method, url, undefined, { token: user.token })
    tt.equal(res.status, 401, `${method} ${url} with the logged-out token`)
    tt.equal(res.body.code, 'not_authenticated')
  }
  const still = await api.get('/auth/users/me/', { token: other })
  tt.equal(still.status, 200)
  tt.equal(still.body.id, user.id)
  tt.equal((await app.db.knex('sessions').where({ user_id: user.id })).length, 1)
})

t.test('logout without a token is 401', async (tt) => {
  const { api } = await build(tt)
  const res = await api.post('/auth/logout/')
  tt.equal(res.status, 401)
  tt.equal(res.body.code, 'not_authenticated')
})

t.test('paths answer without the trailing slash too', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const res = await api.post('/auth/login', { email: user.email, password: user.password })
  tt.equal(res.status, 200)
  tt.equal((await api.get('/auth/users/me', { token: res.body.auth_token })).status, 200)
  tt.equal((await api.post('/auth/logout', undefined, { token: res.body.auth_token })).status, 204)
  tt.equal((await api.get('/auth/users/me', { token: res.body.auth_token })).status, 401)
})

t.test("Djoser's endpoints that bypass 2FA do not exist", async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  for (const url of ['/auth/token/login/', '/auth/token/login', '/auth/jwt/create/', '/auth/jwt/create']) {
    const res = await api.post(url, { email: user.email, password: user.password })
    tt.equal(res.status, 404, url)
    tt.equal(res.body.code, 'not_found', url)
    tt.notOk(res.body.auth_token ?? res.body.access, url)
  }
})

/** An auth-shaped HS256 token signed with a key the server does not hold. */
function otherKeyToken(
  userId: number,
  sid: string,
  key: string | Buffer = 'some-other-secret-key-0123456789abcdef',
): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: String(userId), typ: 'auth', sid, iat: now, exp: now + 60 }
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`
}
