import t from 'tap'
import { build, buildWithMail, ciphertext, PASSWORD, signUp, uniqueEmail, userWithDevice, type Api } from '../helper.js'

type FieldError = { field: string; message: string }
const fields = (body: { errors?: FieldError[] }) => (body.errors ?? []).map((e) => e.field)
const login = (api: Api, email: string, password: string) => api.post('/auth/login/', { email, password })

t.test('sign-up answers 201 {id, email} and stores a hash, not the password', async (t) => {
  const { api, app } = await build(t)
  const email = uniqueEmail()
  const res = await api.post('/auth/users/', { email, password: PASSWORD })
  t.equal(res.status, 201)
  t.same(Object.keys(res.body).sort(), ['email', 'id'])
  t.equal(res.body.email, email)
  t.ok(Number.isInteger(res.body.id) && res.body.id > 0)
  const row = await app.db.knex('users').where({ id: res.body.id }).first()
  t.ok(row)
  t.not(row.password_hash, PASSWORD)
  t.notMatch(row.password_hash, PASSWORD)
})

t.test('emails are case-insensitive and unique', async (t) => {
  const { api, app } = await build(t)
  const email = uniqueEmail('Alice')
  const first = await api.post('/auth/users/', { email, password: PASSWORD })
  t.equal(first.status, 201)
  t.equal(first.body.email.toLowerCase(), email.toLowerCase())
  for (const duplicate of [email, email.toUpperCase(), email.toLowerCase()]) {
    const res = await api.post('/auth/users/', { email: duplicate, password: 'another-fine-passphrase' })
    t.equal(res.status, 400, duplicate)
    t.equal(res.body.code, 'email_exists', duplicate)
  }
  const rows = await app.db.knex('users').whereRaw('lower(email) = ?', [email.toLowerCase()])
  t.equal(rows.length, 1, 'only the first sign-up made a user')
  // The original password still logs in: the rejected duplicates changed nothing.
  t.equal((await login(api, email, PASSWORD)).status, 200)
})

t.test('concurrent sign-ups for one email make exactly one user', async (t) => {
  const { api, app } = await build(t)
  const email = uniqueEmail()
  const results = await Promise.all(
    [email, email.toUpperCase(), email].map((e) => api.post('/auth/users/', { email: e, password: PASSWORD })),
  )
  t.same(results.map((r) => r.status).sort(), [201, 400, 400])
  for (const r of results.filter((r) => r.status === 400)) t.equal(r.body.code, 'email_exists')
  t.equal((await app.db.knex('users').whereRaw('lower(email) = ?', [email.toLowerCase()])).length, 1)
})

t.test('each password rule is 400 invalid_data naming body.password', async (t) => {
  const { api, app } = await build(t)
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
    t.equal(res.status, 400, rule)
    t.equal(res.body.code, 'invalid_data', rule)
    t.same(fields(res.body), ['body.password'], rule)
    t.match(res.body.errors[0].message, c.says, rule)
    t.notOk(await app.db.knex('users').where({ email: email.toLowerCase() }).first(), `${rule}: no user was made`)
  }
})

t.test('a password breaking several rules names each of them', async (t) => {
  const { api } = await build(t)
  const res = await api.post('/auth/users/', { email: uniqueEmail(), password: '123456' })
  t.equal(res.status, 400)
  t.equal(res.body.code, 'invalid_data')
  const messages = res.body.errors.map((e: FieldError) => e.message).join(' | ')
  t.match(messages, /too short/i)
  t.match(messages, /common/i)
  t.match(messages, /numeric/i)
  t.ok(res.body.errors.every((e: FieldError) => e.field === 'body.password'))
})

t.test('schema violations are 400 invalid_data naming each field, and make no user', async (t) => {
  const { api, app } = await build(t)
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
    t.equal(res.status, 400, name)
    t.equal(res.body.code, 'invalid_data', name)
    for (const field of expected)
      t.ok(fields(res.body).includes(field), `${name}: errors name ${field} (got ${fields(res.body)})`)
  }
  t.equal((await app.db.knex('users')).length, 0)
})

t.test('a number where a string belongs is invalid_data, not silently coerced', async (t) => {
  const { api, app } = await build(t)
  const email = uniqueEmail()
  const res = await api.post('/auth/users/', { email, password: 73920461857 })
  t.equal(res.status, 400)
  t.equal(res.body.code, 'invalid_data')
  t.same(fields(res.body), ['body.password'])
  t.notOk(await app.db.knex('users').where({ email }).first())
})

t.test('malformed JSON is 400 parse_error; another content type is 415', async (t) => {
  const { api, app } = await build(t)
  const parse = await api.post('/auth/users/', undefined, {
    raw: '{"email": "a@example.com", "password": ',
    headers: { 'content-type': 'application/json' },
  })
  t.equal(parse.status, 400)
  t.equal(parse.body.code, 'parse_error')
  const form = await api.post('/auth/users/', undefined, { form: { email: uniqueEmail(), password: PASSWORD } })
  t.equal(form.status, 415)
  t.equal(form.body.code, 'unsupported_media_type')
  t.equal((await app.db.knex('users')).length, 0)
})

t.test('GET /auth/users/me/ answers the caller, and 401 without a token', async (t) => {
  const { api } = await build(t)
  const alice = await signUp(api)
  await signUp(api)
  const me = await api.get('/auth/users/me/', { token: alice.token })
  t.equal(me.status, 200)
  t.same(me.body, { id: alice.id, email: alice.email })
  const anon = await api.get('/auth/users/me')
  t.equal(anon.status, 401)
  t.equal(anon.body.code, 'not_authenticated')
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

t.test('DELETE /auth/users/me/ removes the user and everything it owns', async (t) => {
  const { api, app, smtp } = await buildWithMail(t)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const aliceDevice = await app.db.knex('devices').where({ user_id: alice.id }).first()
  const second = (await login(api, alice.email, alice.password)).body.auth_token as string

  // A message queued for Alice, and one Alice sent to Bob.
  t.equal(
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
  t.equal(sent.status, 201)

  // An active email 2FA method with backup codes.
  const before = smtp.mails.length
  t.equal((await api.post('/auth/email/activate/', undefined, { token: alice.token })).status, 200)
  const code = /code is (\d{6})/.exec((await smtp.next(alice.email, before)).text)![1]
  const confirmed = await api.post('/auth/email/activate/confirm/', { code }, { token: alice.token })
  t.equal(confirmed.status, 200)

  const full = await owned(app, alice.id, aliceDevice.id)
  t.same(full, {
    users: 1,
    sessions: 2,
    devices: 1,
    prekeys: 10,
    signed_prekeys: 1,
    queued_messages: 1,
    mfa_methods: 1,
    mfa_backup_codes: confirmed.body.backup_codes.length,
  })
  t.ok(full.mfa_backup_codes > 0)

  const wrong = await api.delete('/auth/users/me/', { currentPassword: 'not-my-password' }, { token: alice.token })
  t.equal(wrong.status, 400)
  t.equal(wrong.body.code, 'invalid_password')
  t.same(await owned(app, alice.id, aliceDevice.id), full, 'a wrong password deletes nothing')

  const missing = await api.delete('/auth/users/me/', {}, { token: alice.token })
  t.equal(missing.status, 400)
  t.equal(missing.body.code, 'invalid_data')
  t.same(fields(missing.body), ['body.currentPassword'])

  const del = await api.delete('/auth/users/me/', { currentPassword: alice.password }, { token: alice.token })
  t.equal(del.status, 204)
  t.same(await owned(app, alice.id, aliceDevice.id), {
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
  t.equal(inbox.status, 200)
  t.same(
    inbox.body.map((m: { id: number }) => m.id),
    [sent.body.id],
  )
  // Bob's own things are untouched.
  t.equal((await api.get('/auth/users/me/', { token: bob.token })).status, 200)

  for (const token of [alice.token, second]) {
    const res = await api.get('/auth/users/me/', { token })
    t.equal(res.status, 401)
    t.equal(res.body.code, 'not_authenticated')
  }
  t.equal((await login(api, alice.email, alice.password)).body.code, 'invalid_credentials')
  const again = await api.post('/auth/users/', { email: alice.email.toUpperCase(), password: alice.password })
  t.equal(again.status, 201, 'the email can sign up again')
  t.not(again.body.id, alice.id)
})

t.test('DELETE /auth/users/me/ without a token is 401 and deletes nothing', async (t) => {
  const { api, app } = await build(t)
  const user = await signUp(api)
  const res = await api.delete('/auth/users/me', { currentPassword: user.password })
  t.equal(res.status, 401)
  t.equal(res.body.code, 'not_authenticated')
  t.ok(await app.db.knex('users').where({ id: user.id }).first())
})

t.test('set_password: wrong current password is invalid_password and changes nothing', async (t) => {
  const { api } = await build(t)
  const user = await signUp(api)
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const res = await api.post(
    '/auth/users/set_password/',
    { current_password: 'not-my-password', new_password: 'staple-lantern-orbit' },
    { token: user.token },
  )
  t.equal(res.status, 400)
  t.equal(res.body.code, 'invalid_password')
  t.equal((await login(api, user.email, user.password)).status, 200)
  t.equal((await login(api, user.email, 'staple-lantern-orbit')).status, 400)
  t.equal((await api.get('/auth/users/me/', { token: other })).status, 200, 'no session was revoked')
})

t.test('set_password: a weak new password is invalid_data naming body.new_password', async (t) => {
  const { api } = await build(t)
  const user = await signUp(api)
  for (const weak of ['short1', '1234567890123', 'password1', user.email]) {
    const res = await api.post(
      '/auth/users/set_password/',
      { current_password: user.password, new_password: weak },
      { token: user.token },
    )
    t.equal(res.status, 400, weak)
    t.equal(res.body.code, 'invalid_data', weak)
    t.ok(fields(res.body).length > 0 && fields(res.body).every((f) => f === 'body.new_password'), weak)
    t.equal((await login(api, user.email, weak)).status, 400, `${weak} does not log in`)
  }
  t.equal((await login(api, user.email, user.password)).status, 200)
})

t.test('set_password: 204, other sessions revoked, this one kept, old password dead', async (t) => {
  const { api } = await build(t)
  const user = await signUp(api)
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const res = await api.post(
    '/auth/users/set_password',
    { current_password: user.password, new_password: 'staple-lantern-orbit' },
    { token: user.token },
  )
  t.equal(res.status, 204)
  t.equal(res.text, '')
  t.equal((await api.get('/auth/users/me/', { token: user.token })).status, 200, 'the current session stays')
  const revoked = await api.get('/auth/users/me/', { token: other })
  t.equal(revoked.status, 401)
  t.equal(revoked.body.code, 'not_authenticated')
  const old = await login(api, user.email, user.password)
  t.equal(old.status, 400)
  t.equal(old.body.code, 'invalid_credentials')
  t.equal((await login(api, user.email, 'staple-lantern-orbit')).status, 200)
})

t.test('set_password: schema violations and no token', async (t) => {
  const { api } = await build(t)
  const user = await signUp(api)
  const extra = await api.post(
    '/auth/users/set_password/',
    { current_password: user.password, new_password: 'staple-lantern-orbit', re_new_password: 'x' },
    { token: user.token },
  )
  t.equal(extra.status, 400)
  t.equal(extra.body.code, 'invalid_data')
  t.same(fields(extra.body), ['body.re_new_password'])
  const missing = await api.post(
    '/auth/users/set_password/',
    { current_password: user.password },
    { token: user.token },
  )
  t.equal(missing.status, 400)
  t.same(fields(missing.body), ['body.new_password'])
  const anon = await api.post('/auth/users/set_password/', {
    current_password: user.password,
    new_password: 'staple-lantern-orbit',
  })
  t.equal(anon.status, 401)
  t.equal(anon.body.code, 'not_authenticated')
  t.equal((await login(api, user.email, user.password)).status, 200, 'the password is unchanged')
})

t.test('sign-up without the trailing slash', async (t) => {
  const { api } = await build(t)
  const res = await api.post('/auth/users', { email: uniqueEmail(), password: PASSWORD })
  t.equal(res.status, 201)
})
