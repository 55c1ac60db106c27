// The user resource as djoser serves it, at djoser 2's paths and djoser 1.7's backward-compatible
// ones, with the seed client's field names: GET/PUT/PATCH of the user (nothing writable), the list
// and the by-id paths (the caller's own id only), deletion, and the password change at /auth/password/.
import t from 'tap'
import { build, PASSWORD, signUp, uniqueEmail, type Api } from '../helper.js'

const NEW_PASSWORD = 'staple-lantern-orbit'
const login = (api: Api, email: string, password = PASSWORD) => api.post('/auth/login/', { email, password })

t.test('GET /auth/me/ (djoser 1.7) and GET /auth/users/me/ answer the same user', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  for (const path of ['/auth/me/', '/auth/me', '/auth/users/me/']) {
    const res = await api.get(path, { token: user.token })
    tt.equal(res.status, 200, path)
    tt.same(res.body, { id: user.id, email: user.email }, path)
  }
  tt.equal((await api.get('/auth/me/')).status, 401, 'not without a token')
})

t.test('PUT and PATCH of the user answer it; the email and id are read-only, named when changed', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const other = await signUp(api)
  const me = { id: user.id, email: user.email }
  const writes: [string, string][] = [
    ['PUT', '/auth/users/me/'],
    ['PATCH', '/auth/users/me/'],
    ['PUT', '/auth/me/'],
    ['PUT', `/auth/users/${user.id}/`],
    ['PATCH', `/auth/users/${user.id}/`],
  ]
  for (const [method, path] of writes) {
    const what = `${method} ${path}`
    for (const body of [undefined, {}, me, { email: user.email.toUpperCase() }, { id: user.id }]) {
      const res = await api.request(method, path, body, { token: user.token })
      tt.equal(res.status, 200, `${what} ${JSON.stringify(body)}`)
      tt.same(res.body, me, `${what}: the user`)
    }
    const email = await api.request(method, path, { email: uniqueEmail() }, { token: user.token })
    tt.equal(email.status, 400, `${what}: another email`)
    tt.equal(email.body.code, 'invalid_data')
    tt.same(email.body.errors, [
      { field: 'body.email', message: 'is read-only: change it with POST /auth/users/change_username/' },
    ])
    const id = await api.request(method, path, { id: other.id, email: user.email }, { token: user.token })
    tt.equal(id.body.code, 'invalid_data', `${what}: another id`)
    tt.same(
      id.body.errors.map((e: { field: string }) => e.field),
      ['body.id'],
    )
    const extra = await api.request(method, path, { email: user.email, is_staff: true }, { token: user.token })
    tt.equal(extra.body.code, 'invalid_data', `${what}: an unknown field`)
  }
  tt.same((await api.get('/auth/users/me/', { token: user.token })).body, me, 'nothing changed')
})

t.test('GET /auth/users/ lists the caller only', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  await signUp(api)
  const res = await api.get('/auth/users/', { token: user.token })
  tt.equal(res.status, 200)
  tt.same(res.body, [{ id: user.id, email: user.email }])
  tt.equal((await api.get('/auth/users/')).status, 401)
})

t.test("/auth/users/{id}/: the caller's own id acts as /me/; any other is 404 like a missing one", async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const other = await signUp(api)
  const own = await api.get(`/auth/users/${user.id}/`, { token: user.token })
  tt.equal(own.status, 200)
  tt.same(own.body, { id: user.id, email: user.email })
  const missing = 10_000_000
  const answers: string[] = []
  for (const id of [other.id, missing, 'abc', '0']) {
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', {}],
      ['PATCH', {}],
      ['DELETE', { currentPassword: PASSWORD }],
    ] as const) {
      const res = await api.request(method, `/auth/users/${id}/`, body, { token: user.token })
      tt.equal(res.status, 404, `${method} /auth/users/${id}/`)
      answers.push(JSON.stringify(res.body))
    }
  }
  tt.equal(new Set(answers).size, 1, "another user's id answers exactly as a missing one")
  tt.equal((await login(api, other.email)).status, 200, 'the other account is untouched')
  tt.equal((await api.get(`/auth/users/${other.id}/`)).status, 401, 'no token: 401 first')
})

t.test('DELETE /auth/users/{id}/ and POST /auth/users/delete/ (djoser 1.7) delete the account', async (tt) => {
  const { api } = await build(tt)
  for (const via of ['by-id', 'legacy'] as const) {
    const user = await signUp(api)
    const path = via === 'by-id' ? `/auth/users/${user.id}/` : '/auth/users/delete/'
    const method = via === 'by-id' ? 'DELETE' : 'POST'
    const wrong = await api.request(method, path, { currentPassword: 'wrong-password-guess' }, { token: user.token })
    tt.equal(wrong.status, 400, `${via}: wrong password`)
    tt.equal(wrong.body.code, 'invalid_password')
    const snake = await api.request(method, path, { current_password: PASSWORD }, { token: user.token })
    tt.equal(snake.body.code, 'invalid_data', `${via}: the original's field name is currentPassword`)
    tt.equal((await login(api, user.email)).status, 200, `${via}: still there`)
    const res = await api.request(method, path, { currentPassword: PASSWORD }, { token: user.token })
    tt.equal(res.status, 204, `${via}: deleted`)
    tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 401, `${via}: the token died`)
    tt.equal((await login(api, user.email)).body.code, 'invalid_credentials', `${via}: the account is gone`)
  }
})

t.test('POST /auth/password/ (djoser 1.7) changes the password as set_password does', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const other = (await login(api, user.email)).body.auth_token as string
  const wrong = await api.post(
    '/auth/password/',
    { current_password: 'wrong-password-guess', new_password: NEW_PASSWORD },
    { token: user.token },
  )
  tt.equal(wrong.status, 400)
  tt.equal(wrong.body.code, 'invalid_password')
  const weak = await api.post(
    '/auth/password/',
    { current_password: PASSWORD, new_password: 'iloveyou' },
    { token: user.token },
  )
  tt.equal(weak.body.code, 'invalid_data')
  const res = await api.post(
    '/auth/password/',
    { current_password: PASSWORD, new_password: NEW_PASSWORD },
    { token: user.token },
  )
  tt.equal(res.status, 204)
  tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 200, 'this session stays')
  tt.equal((await api.get('/auth/users/me/', { token: other })).status, 401, 'the others end')
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200)
  tt.equal((await login(api, user.email)).body.code, 'invalid_credentials')
  tt.equal((await api.post('/auth/password/', {})).status, 401, 'not without a token')
})
