import t from 'tap'
import { build, buildWithMail, ciphertext, PASSWORD, signUp, uniqueEmail, userWithDevice, type Api } from '../helper.js'

type FieldError = { field: string; message: string }
const fields = (body: { errors?: FieldError[] }) => (body.errors ?? []).map((e) => e.field)
const login = (api: Api, email: string, password: string) => api.post('/auth/login/', { email, password })

t.test('sign-up answers 201 {id, email} and stores a hash, not the password', async (tt) => {
  const { api, app } = await build(tt)
  const email = uniqueEmail()
  const res = await api.post('/auth/users/', { email, password: PASSWORD })
  tt.equal(res.status, 201)
  tt.same(Object.keys(res.body).sort(), ['email', 'id'])
  tt.equal(res.body.email, email)
  tt.ok(Number.isInteger(res.body.id) && res.body.id > 0)
  const row = await app.db.knex('users').where({ id: res.body.id }).first()
  tt.ok(row)
  tt.not(row.password_hash, PASSWORD)
  tt.notMatch(row.password_hash, PASSWORD)
})

t.test('emails are case-insensitive and unique', async (tt) => {
  const { api, app } = await build(tt)
  const email = uniqueEmail('Alice')
  const first = await api.post('/auth/users/', { email, password: PASSWORD })
  tt.equal(first.status, 201)
  tt.equal(first.body.email.toLowerCase(), email.toLowerCase())
  for (const duplicate of [email, email.toUpperCase(), email.toLowerCase()]) {
    const res = await api.post('/auth/users/', { email: duplicate, password: 'another-fine-passphrase' })
    tt.equal(res.status, 400, duplicate)
    tt.equal(res.body.code, 'email_exists', duplicate)
  }
  const rows = await app.db.knex('users').whereRaw('lower(email) = ?', [email.toLowerCase()])
  tt.equal(rows.length, 1, 'only the first sign-up made a user')
  // The original password still logs in: the rejected duplicates changed nothing.
  tt.equal((await login(api, email, PASSWORD)).status, 200)
})

t.test('concurrent sign-ups for one email make exactly one user', async (tt) => {
  const { api, app } = await build(tt)
  const email = uniqueEmail()
  const results = await Promise.all(
    [email, email.toUpperCase(), email].map((e) => api.post('/auth/users/', { email: e, password: PASSWORD })),
  )
  tt.same(results.map((r) => r.status).sort(), [201, 400, 400])
  for (const r of results.filter((result) => result.status === 400)) tt.equal(r.body.code, 'email_exists')
  tt.equal((await app.db.knex('users').whereRaw('lower(email) = ?', [email.toLowerCase()])).length, 1)
})

t.test('each password rule is 400 invalid_data naming body.password', async (tt) => {
  const { api, app } = await build(tt)
  const cases: Record<string, { email?: string; password: string; says: RegExp }> = {
    'too short': { password: 'Zq7#kp2', says: /too short/i },
    'entirely numeric': { password: '84729150364827', says: /numeric/i },
    common: { password: 'iloveyou', says: /common/i },
    'too similar to the email': {
      email: `margaretha.${Date.now()}@example.com`,
      password: 'margaretha1',
      says: /similar/i,
    },
  }
  for (const [rule, c] of Object.entries(cases)) {
    const email = c.email ?? uniqueEmail()
    const res = await api.post('/auth/users/', { email, password: c.password })
    tt.equal(res.status, 400, rule)
    tt.equal(res.body.code, 'invalid_data', rule)
    tt.same(fields(res.body), ['body.password'], rule)
    tt.match(res.body.errors[0].message, c.says, rule)
    tt.notOk(await app.db.knex('users').where({ email: email.toLowerCase() }).first(), `${rule}: no user was made`)
  }
})

t.test('a password breaking several rules names each of them', async (tt) => {
  const { api } = await build(tt)
  const res = await api.post('/auth/users/', { email: uniqueEmail(), password: '123456' })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  const messages = res.body.errors.map((e: FieldError) => e.message).join(' | ')
  tt.match(messages, /too short/i)
  tt.match(messages, /common/i)
  tt.match(messages, /numeric/i)
  tt.ok(res.body.errors.every((e: FieldError) => e.field === 'body.password'))
})

t.test('schema violations are 400 invalid_data naming each field, and make no user', async (tt) => {
  const { api, app } = await build(tt)
  const email = uniqueEmail()
  const cases: [string, unknown, string[]][] = [
    ['missing password', { email }, ['body.password']],
    ['missing email', { password: PASSWORD }, ['body.email']],
    ['extra field is rejected, not stripped', { email, password: PASSWORD, is_staff: true }, ['body.is_staff']],
    ['password of the wrong type', { email, password: { value: PASSWORD } }, ['body.password']],
    ['email of the wrong type', { email: [email, email], password: PASSWORD }, ['body.email']],
    ['bad email format', { email: 'not-an-email', password: PASSWORD }, ['body.email']],
    ['empty password', { email, password: '' }, ['body.password']],
    ['body is not an object', [email, PASSWORD], []],
  ]
  for (const [name, body, expected] of cases) {
    const res = await api.post('/auth/users/', body)
    tt.equal(res.status, 400, name)
    tt.equal(res.body.code, 'invalid_data', name)
    for (const field of expected)
      tt.ok(fields(res.body).includes(field), `${name}: errors name ${field} (got ${fields(res.body)})`)
  }
  tt.equal((await app.db.knex('users')).length, 0)
})

t.test('a number where a string belongs is invalid_data, not silently coerced', async (tt) => {
  const { api, app } = await build(tt)
  const email = uniqueEmail()
  const res = await api.post('/auth/users/', { email, password: 73920461857 })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  tt.same(fields(res.body), ['body.password'])
  tt.notOk(await app.db.knex('users').where({ email }).first())
})

t.test('malformed JSON is 400 parse_error; another content type is 415', async (tt) => {
  const { api, app } = await build(tt)
  const parse = await api.post('/auth/users/', undefined, {
    raw: '{"email": "a@example.com", "password": ',
    headers: { 'content-type': 'application/json' },
  })
  tt.equal(parse.status, 400)
  tt.equal(parse.body.code, 'parse_error')
  const form = await api.post('/auth/users/', undefined, { form: { email: uniqueEmail(), password: PASSWORD } })
  tt.equal(form.status, 415)
  tt.equal(form.body.code, 'unsupported_media_type')
  tt.equal((await app.db.knex('users')).length, 0)
})

t.test('GET /auth/users/me/ answers the caller, and 401 without a token', async (tt) => {
  const { api } = await build(tt)
  const alice = await signUp(api)
  await signUp(api)
  const me = await api.get('/auth/users/me/', { token: alice.token })
  tt.equal(me.status, 200)
  tt.same(me.body, { id: alice.id, email: alice.email })
  const anon = await api.get('/auth/users/me')
  tt.equal(anon.status, 401)
  tt.equal(anon.body.code, 'not_authenticated')
})

/** Row counts of everything a user owns. */
async function owned(app: Awaited<ReturnType<typeof build>>['app'], userId: number, deviceId: number) {
  const k = app.db.knex
  const count = async (q: ReturnType<typeof k>) => Number((await q.count({ n: '*' }).first())!.n)
  const methodIds = k('mfa_methods').select('id').where({ user_id: userId })
  return {
    users: await count(k('users').where({ id: userId })),
    sessions: await count(k('sessions').where({ user_id: userId })),
    devices: await count(k('devices').where({ user_id: userId })),
    prekeys: await count(k('prekeys').where({ device_id: deviceId })),
    signed_prekeys: await count(k('signed_prekeys').where({ device_id: deviceId })),
    queued_messages: await count(k('messages').where({ recipient_device_id: deviceId })),
    mfa_methods: await count(k('mfa_methods').where({ user_id: userId })),
    mfa_backup_codes: await count(k('mfa_backup_codes').whereIn('method_id', methodIds)),
  }
}

t.test('DELETE /auth/users/me/ removes the user and everything it owns', async (tt) => {
  const { api, app, smtp } = await buildWithMail(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const aliceDevice = await app.db.knex('devices').where({ user_id: alice.id }).first()
  const second = (await login(api, alice.email, alice.password)).body.auth_token as string

  // A message queued for Alice, and one Alice sent to Bob.
  tt.equal(
    (
      await api.post(
        `/messages/${bob.registrationId}/`,
        { recipient: alice.email, message: ciphertext(alice.registrationId) },
        { token: bob.token },
      )
    ).status,
    201,
  )
  const sent = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: ciphertext(bob.registrationId) },
    { token: alice.token },
  )
  tt.equal(sent.status, 201)

  // An active email 2FA method with backup codes.
  const before = smtp.mails.length
  tt.equal((await api.post('/auth/email/activate/', undefined, { token: alice.token })).status, 200)
  const code = /code is (\d{6})/.exec((await smtp.next(alice.email, before)).text)![1]
  const confirmed = await api.post('/auth/email/activate/confirm/', { code }, { token: alice.token })
  tt.equal(confirmed.status, 200)

  const full = await owned(app, alice.id, aliceDevice.id)
  tt.same(full, {
    users: 1,
    sessions: 2,
    devices: 1,
    prekeys: 10,
    signed_prekeys: 1,
    queued_messages: 1,
    mfa_methods: 1,
    mfa_backup_codes: confirmed.body.backup_codes.length,
  })
  tt.ok(full.mfa_backup_codes > 0)

  const wrong = await api.delete('/auth/users/me/', { currentPassword: 'not-my-password' }, { token: alice.token })
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_password')
  tt.same(await owned(app, alice.id, aliceDevice.id), full, 'a wrong password deletes nothing')

  const missing = await api.delete('/auth/users/me/', {}, { token: alice.token })
  tt.equal(missing.status, 400)
  tt.equal(missing.body.code, 'invalid_data')
  tt.same(fields(missing.body), ['body.currentPassword'])

  const del = await api.delete('/auth/users/me/', { currentPassword: alice.password }, { token: alice.token })
  tt.equal(del.status, 204)
  tt.same(await owned(app, alice.id, aliceDevice.id), {
    users: 0,
    sessions: 0,
    devices: 0,
    prekeys: 0,
    signed_prekeys: 0,
    queued_messages: 0,
    mfa_methods: 0,
    mfa_backup_codes: 0,
  })

  // What Alice sent to others stays in their queues.
  const inbox = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.equal(inbox.status, 200)
  tt.same(
    inbox.body.map((m: { id: number }) => m.id),
    [sent.body.id],
  )
  // Bob's own things are untouched.
  tt.equal((await api.get('/auth/users/me/', { token: bob.token })).status, 200)

  for (const token of [alice.token, second]) {
    const res = await api.get('/auth/users/me/', { token })
    tt.equal(res.status, 401)
    tt.equal(res.body.code, 'not_authenticated')
  }
  tt.equal((await login(api, alice.email, alice.password)).body.code, 'invalid_credentials')
  const again = await api.post('/auth/users/', { email: alice.email.toUpperCase(), password: alice.password })
  tt.equal(again.status, 201, 'the email can sign up again')
  tt.not(again.body.id, alice.id)
})

t.test('DELETE /auth/users/me/ without a token is 401 and deletes nothing', async (tt) => {
  const { api, app } = await build(tt)
  const user = await signUp(api)
  const res = await api.delete('/auth/users/me', { currentPassword: user.password })
  tt.equal(res.status, 401)
  tt.equal(res.body.code, 'not_authenticated')
  tt.ok(await app.db.knex('users').where({ id: user.id }).first())
})

t.test('set_password: wrong current password is invalid_password and changes nothing', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const res = await api.post(
    '/auth/users/set_password/',
    { current_password: 'not-my-password', new_password: 'staple-lantern-orbit' },
    { token: user.token },
  )
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_password')
  tt.equal((await login(api, user.email, user.password)).status, 200)
  tt.equal((await login(api, user.email, 'staple-lantern-orbit')).status, 400)
  tt.equal((await api.get('/auth/users/me/', { token: other })).status, 200, 'no session was revoked')
})

t.test('set_password: a weak new password is invalid_data naming body.new_password', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  for (const weak of ['short1', '1234567890123', 'password1', user.email]) {
    const res = await api.post(
      '/auth/users/set_password/',
      { current_password: user.password, new_password: weak },
      { token: user.token },
    )
    tt.equal(res.status, 400, weak)
    tt.equal(res.body.code, 'invalid_data', weak)
    tt.ok(fields(res.body).length > 0 && fields(res.body).every((f) => f === 'body.new_password'), weak)
    tt.equal((await login(api, user.email, weak)).status, 400, `${weak} does not log in`)
  }
  tt.equal((await login(api, user.email, user.password)).status, 200)
})

t.test('set_password: 204, other sessions revoked, this one kept, old password dead', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const res = await api.post(
    '/auth/users/set_password',
    { current_password: user.password, new_password: 'staple-lantern-orbit' },
    { token: user.token },
  )
  tt.equal(res.status, 204)
  tt.equal(res.text, '')
  tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 200, 'the current session stays')
  const revoked = await api.get('/auth/users/me/', { token: other })
  tt.equal(revoked.status, 401)
  tt.equal(revoked.body.code, 'not_authenticated')
  const old = await login(api, user.email, user.password)
  tt.equal(old.status, 400)
  tt.equal(old.body.code, 'invalid_credentials')
  tt.equal((await login(api, user.email, 'staple-lantern-orbit')).status, 200)
})

t.test('set_password: schema violations and no token', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const extra = await api.post(
    '/auth/users/set_password/',
    { current_password: user.password, new_password: 'staple-lantern-orbit', re_new_password: 'x' },
    { token: user.token },
  )
  tt.equal(extra.status, 400)
  tt.equal(extra.body.code, 'invalid_data')
  tt.same(fields(extra.body), ['body.re_new_password'])
  const missing = await api.post(
    '/auth/users/set_password/',
    { current_password: user.password },
    { token: user.token },
  )
  tt.equal(missing.status, 400)
  tt.same(fields(missing.body), ['body.new_password'])
  const anon = await api.post('/auth/users/set_password/', {
    current_password: user.password,
    new_password: 'staple-lantern-orbit',
  })
  tt.equal(anon.status, 401)
  tt.equal(anon.body.code, 'not_authenticated')
  tt.equal((await login(api, user.email, user.password)).status, 200, 'the password is unchanged')
})

t.test('sign-up without the trailing slash', async (tt) => {
  const { api } = await build(tt)
  const res = await api.post('/auth/users', { email: uniqueEmail(), password: PASSWORD })
  tt.equal(res.status, 201)
})
