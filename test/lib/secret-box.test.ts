import t from 'tap'
import { buildApp } from '../../app.js'
import { secretBox } from '../../lib/secret-box.js'
import { build, client, signUp, PASSWORD } from '../helper.js'
import { enableApp, fakeClock, totp } from '../mfa-helpers.js'

const KEY = 'test-secret-key-that-is-long-enough-0123456789'

t.test('seal and open round-trip; another key, another purpose or a changed byte does not open', async (tt) => {
  const box = secretBox(KEY, 'mfa-secrets')
  const sealed = box.seal('JBSWY3DPEHPK3PXP')
  tt.match(sealed, /^v1:[A-Za-z0-9+/]+=*$/)
  tt.not(box.seal('JBSWY3DPEHPK3PXP'), sealed, 'a fresh IV each time')
  tt.equal(box.open(sealed), 'JBSWY3DPEHPK3PXP')
  tt.equal(secretBox(KEY + 'x', 'mfa-secrets').open(sealed), undefined, 'another SECRET_KEY')
  tt.equal(secretBox(KEY, 'other').open(sealed), undefined, 'another purpose')
  const raw = Buffer.from(sealed.slice(3), 'base64')
  for (const i of [0, 12, raw.length - 1]) {
    const bad = Buffer.from(raw)
    bad[i] ^= 1
    tt.equal(box.open('v1:' + bad.toString('base64')), undefined, `byte ${i} changed`)
  }
  tt.equal(box.open('v1:AAAA'), undefined, 'too short')
  tt.equal(box.open('JBSWY3DPEHPK3PXP'), 'JBSWY3DPEHPK3PXP', 'a value stored before encryption reads as it is')
})

t.test('the TOTP secret is stored encrypted, and 2FA works through it', async (tt) => {
  const clock = fakeClock(tt)
  const { app, api, config } = await build(tt)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  const [row] = await app.db.knex('mfa_methods').where({ user_id: user.id })
  tt.match(row.secret, /^v1:/)
  tt.notMatch(row.secret, secret, 'the plain secret is nowhere in the row')
  const login = await api.post('/auth/login/', { email: user.email, password: PASSWORD })
  const code = await api.post('/auth/login/code/', {
    ephemeral_token: login.body.ephemeral_token,
    code: await totp(secret),
  })
  tt.equal(code.status, 200, 'a code from the secret logs in')

  // The same database under another SECRET_KEY: the secret no longer opens, so no TOTP code matches.
  clock.advance(30)
  const other = await buildApp(
    { ...config, secretKey: 'a-different-key-Vb7q2LmX9pKd4RtZ8wYc3NfH6sJe' },
    { logger: false },
  )
  tt.teardown(() => other.close())
  const otherApi = client(other, tt)
  const again = await otherApi.post('/auth/login/', { email: user.email, password: PASSWORD })
  const refused = await otherApi.post('/auth/login/code/', {
    ephemeral_token: again.body.ephemeral_token,
    code: await totp(secret),
  })
  tt.equal(refused.status, 400)
  tt.equal(refused.body.code, 'invalid_code')
})

t.test('a secret stored in plain text before encryption still works', async (tt) => {
  const clock = fakeClock(tt)
  const { app, api } = await build(tt)
  const user = await signUp(api)
  const { secret } = await enableApp(api, user.token, clock)
  await app.db.knex('mfa_methods').where({ user_id: user.id }).update({ secret })
  const login = await api.post('/auth/login/', { email: user.email, password: PASSWORD })
  const code = await api.post('/auth/login/code/', {
    ephemeral_token: login.body.ephemeral_token,
    code: await totp(secret),
  })
  tt.equal(code.status, 200)
})
