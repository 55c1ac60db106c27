import t from 'tap'
import { hostAllowed } from '../../plugins/allowed-hosts.js'
import { build, PASSWORD, signUp, uniqueEmail } from '../helper.js'

t.test('hostAllowed: exact names, leading-dot domains, wildcard, ports and case', async (tt) => {
  const list = ['api.example.com', '.example.org']
  tt.ok(hostAllowed('api.example.com', list))
  tt.ok(hostAllowed('API.Example.COM', list), 'case-insensitive')
  tt.ok(hostAllowed('api.example.com:8443', list), 'port ignored')
  tt.ok(hostAllowed('example.org', list), '.example.org covers the domain itself')
  tt.ok(hostAllowed('x.example.org', list))
  tt.ok(hostAllowed('a.b.example.org', list))
  tt.notOk(hostAllowed('www.api.example.com', list), 'an exact entry does not cover subdomains')
  tt.notOk(hostAllowed('evil.com', list))
  tt.notOk(hostAllowed('badexample.org', list), 'suffix match is on a label boundary')
  tt.notOk(hostAllowed('example.org.evil.com', list))
  tt.notOk(hostAllowed('api.example.com.evil.com', list))
  tt.notOk(hostAllowed(undefined, list), 'no Host header')
  tt.notOk(hostAllowed('', list))
  tt.ok(hostAllowed('[::1]:8000', ['::1']), 'IPv6 literal')
  tt.ok(hostAllowed('anything.test', []), 'empty list allows any')
  tt.ok(hostAllowed(undefined, []))
  tt.ok(hostAllowed('anything.test', ['*']), '"*" allows any')
})

t.test('with ALLOWED_HOSTS set, allowed Host headers pass and others get 400 invalid_host', async (tt) => {
  const { app, api } = await build(tt, { allowedHosts: ['api.example.com', '.example.org'] })
  for (const host of ['api.example.com', 'x.example.org', 'api.example.com:8000']) {
    const res = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD }, { headers: { host } })
    tt.equal(res.status, 201, host)
  }
  const email = uniqueEmail('evil')
  const evil = await api.post('/auth/users/', { email, password: PASSWORD }, { headers: { host: 'evil.com' } })
  tt.equal(evil.status, 400)
  tt.equal(evil.body.code, 'invalid_host')
  tt.equal((await app.db.knex('users').where({ email })).length, 0, 'the refused request created nothing')
})

t.test('invalid_host comes before authentication and routing', async (tt) => {
  const { api } = await build(tt, { allowedHosts: ['api.example.com'] })
  const headers = { host: 'evil.com' }
  const me = await api.get('/auth/users/me/', { headers })
  tt.equal(me.status, 400, 'no token, but the host is refused first')
  tt.equal(me.body.code, 'invalid_host')
  const reset = await api.post('/auth/password/reset/', { email: uniqueEmail() }, { headers })
  tt.equal(reset.status, 400, 'no reset link is built from a foreign Host')
  tt.equal(reset.body.code, 'invalid_host')
  const unknown = await api.get('/no-such-path', { headers })
  tt.equal(unknown.status, 400)
  tt.equal(unknown.body.code, 'invalid_host')
})

t.test('an authenticated call from an allowed host works; the same token from a foreign host does not', async (tt) => {
  const { api } = await build(tt, { allowedHosts: ['.example.org'] })
  const headers = { host: 'chat.example.org' }
  const created = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD }, { headers })
  const login = await api.post('/auth/login/', { email: created.body.email, password: PASSWORD }, { headers })
  const token = login.body.auth_token as string
  tt.equal((await api.get('/auth/users/me/', { token, headers })).status, 200)
  const foreign = await api.get('/auth/users/me/', { token, headers: { host: 'example.org.evil.com' } })
  tt.equal(foreign.status, 400)
  tt.equal(foreign.body.code, 'invalid_host')
})

t.test('an empty list allows any Host', async (tt) => {
  const { api } = await build(tt, { allowedHosts: [] })
  const user = await signUp(api)
  for (const host of ['evil.com', 'localhost', '10.0.0.1:9999']) {
    tt.equal((await api.get('/auth/users/me/', { token: user.token, headers: { host } })).status, 200, host)
  }
})
