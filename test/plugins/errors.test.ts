import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { toApiError } from '../../plugins/errors.js'
import { build, PASSWORD, publicKey, signUp, uniqueEmail, userWithDevice } from '../helper.js'

const JSON_TYPE = { 'content-type': 'application/json' }
const countUsers = async (app: { db: { knex: any } }) => Number((await app.db.knex('users').count({ n: '*' }))[0].n)

t.test('an unknown path is 404 not_found', async (tt) => {
  const { api } = await build(tt)
  for (const url of ['/nope', '/nope/', '/auth/', '/messages/', '/prekeys/1/extra/']) {
    const res = await api.get(url)
    tt.equal(res.status, 404, url)
    tt.equal(res.body.code, 'not_found', url)
  }
})

t.test("Djoser's other login endpoints do not exist", async (tt) => {
  const { api } = await build(tt)
  for (const url of ['/auth/token/login/', '/auth/jwt/create/', '/auth/token/login', '/auth/jwt/create']) {
    const res = await api.post(url, { email: 'a@example.com', password: PASSWORD })
    tt.equal(res.status, 404, url)
    tt.equal(res.body.code, 'not_found', url)
  }
})

t.test(
  "a method the spec does not define on an existing path is 405 with exactly the spec's methods in Allow",
  async (tt) => {
    const { api } = await build(tt)
    const cases: [string, string, string[]][] = [
      ['PUT', '/auth/users/', ['GET', 'POST']],
      ['GET', '/auth/login/', ['POST']],
      ['PATCH', '/messages/5/', ['GET', 'POST', 'DELETE']],
      ['POST', '/auth/users/me/', ['GET', 'PUT', 'PATCH', 'DELETE']],
      ['GET', '/device/', ['POST', 'DELETE']],
      ['DELETE', '/prekeybundle/bob@example.com/5/', ['GET']],
      ['GET', '/auth/login', ['POST']],
    ]
    for (const [method, url, methods] of cases) {
      const res = await api.request(method, url)
      tt.equal(res.status, 405, `${method} ${url}`)
      tt.equal(res.body.code, 'method_not_allowed', `${method} ${url}`)
      const allow = String(res.headers.allow ?? '')
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean)
      tt.same(allow.sort(), [...methods].sort(), `Allow for ${url}`)
    }
  },
)

t.test('a body over the limit is 413 request_too_large and nothing is created', async (tt) => {
  const { app, api } = await build(tt)
  const raw = JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(2 * 1024 * 1024) })
  const res = await api.post('/auth/users/', undefined, { raw, headers: JSON_TYPE })
  tt.equal(res.status, 413)
  tt.equal(res.body.code, 'request_too_large')
  tt.equal(await countUsers(app), 0)
})

t.test('a body of another type than JSON is 415 unsupported_media_type', async (tt) => {
  const { app, api } = await build(tt)
  const email = uniqueEmail()
  const bodies: [string, string][] = [
    ['text/plain', JSON.stringify({ email, password: PASSWORD })],
    ['application/xml', `<user><email>${email}</email><password>${PASSWORD}</password></user>`],
    ['application/x-www-form-urlencoded', new URLSearchParams({ email, password: PASSWORD }).toString()],
    [
      'multipart/form-data; boundary=x',
      `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${email}\r\n--x--\r\n`,
    ],
  ]
  for (const [type, raw] of bodies) {
    const res = await api.post('/auth/users/', undefined, { raw, headers: { 'content-type': type } })
    tt.equal(res.status, 415, type)
    tt.equal(res.body.code, 'unsupported_media_type', type)
  }
  tt.equal(await countUsers(app), 0, 'none of them created the user')
})

t.test('JSON with a charset parameter or in upper case is still JSON', async (tt) => {
  const { api } = await build(tt)
  for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
    const res = await api.post('/auth/users/', undefined, {
      raw: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
      headers: { 'content-type': type },
    })
    tt.equal(res.status, 201, type)
  }
})

t.test('malformed JSON is 400 parse_error', async (tt) => {
  const { app, api } = await build(tt)
  for (const raw of ['{"email":', '{email: "a@example.com"}', "{'a':1}", '{"a":1}}', 'undefined']) {
    const res = await api.post('/auth/users/', undefined, { raw, headers: JSON_TYPE })
    tt.equal(res.status, 400, raw)
    tt.equal(res.body.code, 'parse_error', raw)
  }
  tt.equal(await countUsers(app), 0)
})

t.test('JSON with __proto__ or constructor.prototype is refused and pollutes nothing', async (tt) => {
  const { app, api } = await build(tt)
  const payloads = [
    `{"__proto__":{"polluted":true},"email":"${uniqueEmail()}","password":"${PASSWORD}"}`,
    `{"constructor":{"prototype":{"polluted":true}},"email":"${uniqueEmail()}","password":"${PASSWORD}"}`,
  ]
  for (const raw of payloads) {
    const res = await api.post('/auth/users/', undefined, { raw, headers: JSON_TYPE })
    tt.equal(res.status, 400)
    tt.equal(res.body.code, 'parse_error')
  }
  tt.equal(({} as Record<string, unknown>).polluted, undefined)
  tt.equal(await countUsers(app), 0)
})

t.test('an empty body with a JSON content type, where a body is required, is 400 invalid_data', async (tt) => {
  const { app, api } = await build(tt)
  for (const raw of ['', 'null']) {
    const res = await api.post('/auth/users/', undefined, { raw, headers: JSON_TYPE })
    tt.equal(res.status, 400, JSON.stringify(raw))
    tt.equal(res.body.code, 'invalid_data')
    tt.ok(
      res.body.errors?.some((e: { field: string }) => e.field === 'body'),
      'names the body',
    )
  }
  const none = await api.post('/auth/users/')
  tt.equal(none.status, 400, 'no body and no content type')
  tt.equal(none.body.code, 'invalid_data')
  tt.equal(await countUsers(app), 0)
})

t.test('an extra property is rejected (not stripped) and named in errors[].field', async (tt) => {
  const { app, api } = await build(tt)
  const email = uniqueEmail()
  const res = await api.post('/auth/users/', { email, password: PASSWORD, is_staff: true })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  tt.ok(
    res.body.errors.some((e: { field: string }) => e.field === 'body.is_staff'),
    JSON.stringify(res.body.errors),
  )
  tt.equal(await countUsers(app), 0, 'the user was not created with the extra stripped')
})

t.test('every schema violation is named, with its path', async (tt) => {
  const { api } = await build(tt)
  const res = await api.post('/auth/users/', { email: 'not-an-email' })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  const fields = res.body.errors.map((e: { field: string }) => e.field).sort()
  tt.same(fields, ['body.email', 'body.password'])
  for (const e of res.body.errors) tt.type(e.message, 'string')
})

t.test('body types are not coerced: a numeric string for an integer is refused', async (tt) => {
  const { app, api } = await build(tt)
  const user = await userWithDevice(api)
  const res = await api.post(`/prekeys/${user.registrationId}/`, [{ keyId: '500', publicKey: publicKey() }], {
    token: user.token,
  })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_data')
  tt.ok(
    res.body.errors.some((e: { field: string }) => e.field === 'body[0].keyId'),
    JSON.stringify(res.body.errors),
  )
  const stored = await app.db.knex('prekeys').where({ key_id: 500 })
  tt.equal(stored.length, 0, 'nothing stored')

  const other = await signUp(api)
  const device = {
    address: 'x.1',
    identityKey: publicKey(),
    registrationId: '4321',
    preKeys: [],
    signedPreKey: user.device.signedPreKey,
  }
  const dev = await api.post('/device/', device, { token: other.token })
  tt.equal(dev.status, 400)
  tt.equal(dev.body.code, 'invalid_data')
  tt.ok(dev.body.errors.some((e: { field: string }) => e.field === 'body.registrationId'))
  tt.equal((await app.db.knex('devices').where({ user_id: other.id })).length, 0, 'no device registered')
})

t.test('path parameters are coerced from strings, and a non-number is 400 invalid_data', async (tt) => {
  const { api } = await build(tt)
  const user = await userWithDevice(api)
  tt.equal(
    (await api.get(`/messages/${user.registrationId}/`, { token: user.token })).status,
    200,
    'numeric path param accepted',
  )
  const post = await api.post('/messages/abc/', { recipient: user.email, message: '{}' }, { token: user.token })
  tt.equal(post.status, 400)
  tt.equal(post.body.code, 'invalid_data')
  tt.ok(post.body.errors.some((e: { field: string }) => e.field === 'params.registrationId'))
  const del = await api.delete('/messages/abc/', [1], { token: user.token })
  tt.equal(del.status, 400)
  tt.equal(del.body.code, 'invalid_data')
  const get = await api.get('/messages/abc/', { token: user.token })
  tt.equal(get.status, 400)
  tt.equal(get.body.code, 'invalid_data')
  const big = await api.get('/messages/1000000/', { token: user.token })
  tt.equal(big.status, 400, 'out of the integer range')
  tt.equal(big.body.code, 'invalid_data')
})

t.test('trailing slash is optional', async (tt) => {
  const { api } = await build(tt)
  const created = await api.post('/auth/users', { email: uniqueEmail(), password: PASSWORD })
  tt.equal(created.status, 201, 'POST /auth/users')
  const user = await userWithDevice(api)
  for (const url of [
    '/auth/users/me',
    '/auth/users/me/',
    `/messages/${user.registrationId}`,
    `/messages/${user.registrationId}/`,
  ]) {
    tt.equal((await api.get(url, { token: user.token })).status, 200, url)
  }
})

t.test('headers over the limit: status line 431 and a JSON error body', async (tt) => {
  const { app } = await build(tt)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (d) => (data += d))
    socket.on('end', () => resolve(data))
    socket.on('error', (err) => (data ? resolve(data) : reject(err)))
    socket.write(`GET /auth/users/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`)
  })
  const [head, body] = raw.split('\r\n\r\n')
  tt.match(head.split('\r\n')[0], /^HTTP\/1\.1 431 /)
  tt.match(head, /content-type: application\/json/i)
  const parsed = JSON.parse(body)
  tt.equal(parsed.code, 'headers_too_large')
  tt.type(parsed.message, 'string')
})

t.test('5xx never leaks details', async (tt) => {
  const plain = toApiError(new Error('secret detail: postgres://admin:hunter2@db') as never)
  tt.equal(plain.statusCode, 500)
  tt.equal(plain.code, 'server_error')
  tt.notMatch(plain.message, /secret|hunter2|postgres/)
  tt.equal(plain.errors, undefined)

  const upstream = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { statusCode: 503 })
  const mapped = toApiError(upstream as never)
  tt.equal(mapped.statusCode, 500)
  tt.notMatch(mapped.message, /10\.0\.0\.5|ECONNREFUSED/)
})

// A body sent to an operation that takes none (logout, 2FA activate) is parsed anyway, so a wrong
// type or size answers 415/413, which openapi.yaml does not declare for these operations: `api`
// fails this test through the spec check until the spec or the server changes.
t.test('contract gap: a body sent to a body-less operation gives 413/415 the spec does not declare', async (tt) => {
  const { api } = await build(tt)
  const user = await signUp(api)
  const typed = await api.post('/auth/app/activate/', undefined, {
    token: user.token,
    raw: 'x',
    headers: { 'content-type': 'text/plain' },
  })
  tt.not(typed.status, 500, 'activateMfa with a text/plain body')
  const huge = await api.post('/auth/logout/', undefined, {
    token: user.token,
    raw: 'x'.repeat(2 * 1024 * 1024),
    headers: JSON_TYPE,
  })
  tt.not(huge.status, 500, 'logout with a 2 MB body')
})
