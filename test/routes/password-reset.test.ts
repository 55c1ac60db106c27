import t from 'tap'
import { buildWithMail, signUp, uniqueEmail, type Api } from '../helper.js'
import { encodeUid, makeResetToken } from '../../lib/reset-tokens.js'

const PUBLIC_URL = 'https://chat.example.org'
const NEW_PASSWORD = 'staple-lantern-orbit'
const LINK = /https:\/\/chat\.example\.org\/auth\/password\/reset\/confirm\/([^/\s]+)\/([^/\s]+)\//

type Built = Awaited<ReturnType<typeof buildWithMail>>
const login = (api: Api, email: string, password: string) => api.post('/auth/login/', { email, password })

/** Asks for a reset and reads the link out of the mail that arrives over SMTP. */
async function requestReset({ api, smtp }: Built, email: string) {
  const before = smtp.mails.length
  const res = await api.post('/auth/password/reset/', { email })
  if (res.status !== 204) throw new Error(`reset request failed: ${res.status} ${res.text}`)
  const mail = await smtp.next(email, before)
  const match = LINK.exec(mail.text)
  if (!match) throw new Error(`no reset link in: ${mail.text}`)
  return { mail, link: match[0], path: new URL(match[0]).pathname, uid: match[1], token: match[2] }
}

const setup = async (tt: Parameters<typeof buildWithMail>[0], overrides = {}) => {
  const built = await buildWithMail(tt, { publicUrl: PUBLIC_URL, ...overrides })
  const user = await signUp(built.api)
  return { ...built, user }
}

t.test(
  'reset request is 204 for registered and unregistered emails alike; only a registered one gets mail',
  async (tt) => {
    const built = await setup(tt)
    const { api, app, smtp, user } = built
    // The mail is sent without being awaited; counting calls tells at once whether one was started.
    const started: string[] = []
    const send = app.mailer.send
    app.mailer.send = (outgoing) => {
      started.push(outgoing.to)
      return send(outgoing)
    }
    const stranger = uniqueEmail('stranger')
    const unknown = await api.post('/auth/password/reset/', { email: stranger })
    tt.equal(unknown.status, 204)
    tt.equal(unknown.text, '')
    tt.same(started, [], 'no mail for an unknown email')
    const { mail, link, uid } = await requestReset(built, user.email.toUpperCase())
    tt.same(mail.to, [user.email.toLowerCase()], 'mailed to the account, whatever the case asked')
    tt.match(link, `${PUBLIC_URL}/auth/password/reset/confirm/`)
    tt.equal(uid, encodeUid(user.id))
    // The registered user's mail went out after the unknown email's request, and none went to the stranger.
    tt.equal(smtp.mails.filter((m) => m.to.includes(stranger.toLowerCase())).length, 0)
    tt.equal(smtp.mails.length, 1)
    tt.same(started, [user.email.toLowerCase()])
  },
)

t.test('reset request: a bad email is invalid_data; no slash works', async (tt) => {
  const { api } = await setup(tt)
  const bad = await api.post('/auth/password/reset/', { email: 'not-an-email' })
  tt.equal(bad.status, 400)
  tt.equal(bad.body.code, 'invalid_data')
  tt.same(
    bad.body.errors.map((e: { field: string }) => e.field),
    ['body.email'],
  )
  tt.equal((await api.post('/auth/password/reset', { email: uniqueEmail() })).status, 204)
})

t.test('JSON confirm: 204, all sessions revoked, new password logs in, token works once', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const { uid, token } = await requestReset(built, user.email)
  const res = await api.post('/auth/password/reset/confirm/', { uid, token, new_password: NEW_PASSWORD })
  tt.equal(res.status, 204)
  for (const session of [user.token, other]) {
    const me = await api.get('/auth/users/me/', { token: session })
    tt.equal(me.status, 401)
    tt.equal(me.body.code, 'not_authenticated')
  }
  tt.equal((await login(api, user.email, user.password)).body.code, 'invalid_credentials', 'the old password is dead')
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200)

  const again = await api.post('/auth/password/reset/confirm', { uid, token, new_password: 'another-new-passphrase' })
  tt.equal(again.status, 400)
  tt.equal(again.body.code, 'invalid_token')
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200, 'the replay changed nothing')
})

t.test('an expired token is invalid_token; a younger one works', async (tt) => {
  const { api, app, config, user } = await setup(tt, { passwordResetTimeout: 60 })
  const row = (await app.db.users.findById(user.id))!
  const uid = encodeUid(user.id)
  const expired = makeResetToken(config.secretKey, row, Date.now() - 61_000)
  const res = await api.post('/auth/password/reset/confirm/', { uid, token: expired, new_password: NEW_PASSWORD })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_token')
  tt.equal((await login(api, user.email, user.password)).status, 200, 'the password is unchanged')
  // Control: a token crafted the same way but within the timeout is accepted.
  const fresh = makeResetToken(config.secretKey, row, Date.now() - 30_000)
  tt.equal(
    (await api.post('/auth/password/reset/confirm/', { uid, token: fresh, new_password: NEW_PASSWORD })).status,
    204,
  )
})

t.test('a token issued before a password change dies', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const { uid, token } = await requestReset(built, user.email)
  const changed = await api.post(
    '/auth/users/set_password/',
    { current_password: user.password, new_password: NEW_PASSWORD },
    { token: user.token },
  )
  tt.equal(changed.status, 204)
  const res = await api.post('/auth/password/reset/confirm/', { uid, token, new_password: 'another-new-passphrase' })
  tt.equal(res.status, 400)
  tt.equal(res.body.code, 'invalid_token')
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200)
})

t.test('using one reset link kills the other outstanding ones', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const first = await requestReset(built, user.email)
  const second = await requestReset(built, user.email)
  tt.equal(
    (
      await api.post('/auth/password/reset/confirm/', {
        uid: second.uid,
        token: second.token,
        new_password: NEW_PASSWORD,
      })
    ).status,
    204,
  )
  const old = await api.post('/auth/password/reset/confirm/', {
    uid: first.uid,
    token: first.token,
    new_password: 'another-new-passphrase',
  })
  tt.equal(old.status, 400)
  tt.equal(old.body.code, 'invalid_token')
})

t.test('tampered tokens and uids are invalid_token and change nothing', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const bob = await signUp(api)
  const { uid, token } = await requestReset(built, user.email)
  const last = token.at(-1) === '0' ? '1' : '0'
  const cases: Record<string, { uid: string; token: string }> = {
    'signature changed': { uid, token: token.slice(0, -1) + last },
    'timestamp changed': { uid, token: token.replace(/^[0-9a-z]+/, (s) => (parseInt(s, 36) + 1).toString(36)) },
    'another user': { uid: encodeUid(bob.id), token },
    'unknown user': { uid: encodeUid(999_999), token },
    'garbage uid': { uid: '!!', token },
    'garbage token': { uid, token: 'nope' },
  }
  for (const [name, body] of Object.entries(cases)) {
    const res = await api.post('/auth/password/reset/confirm/', { ...body, new_password: NEW_PASSWORD })
    tt.equal(res.status, 400, name)
    tt.equal(res.body.code, 'invalid_token', name)
  }
  tt.equal((await login(api, user.email, user.password)).status, 200, "the user's password is unchanged")
  tt.equal((await login(api, bob.email, bob.password)).status, 200, "bob's password is unchanged")
  // The untampered token still works.
  tt.equal((await api.post('/auth/password/reset/confirm/', { uid, token, new_password: NEW_PASSWORD })).status, 204)
})

t.test('a weak new password with a valid token is invalid_data, and the token still works', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const { uid, token } = await requestReset(built, user.email)
  const weak = await api.post('/auth/password/reset/confirm/', { uid, token, new_password: '12345678' })
  tt.equal(weak.status, 400)
  tt.equal(weak.body.code, 'invalid_data')
  tt.ok(
    weak.body.errors.length > 0 && weak.body.errors.every((e: { field: string }) => e.field === 'body.new_password'),
  )
  tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 200, 'sessions were not revoked')
  tt.equal((await login(api, user.email, user.password)).status, 200)
  tt.equal((await api.post('/auth/password/reset/confirm/', { uid, token, new_password: NEW_PASSWORD })).status, 204)
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200)
})

t.test('JSON confirm schema violations are invalid_data naming the field', async (tt) => {
  const { api } = await setup(tt)
  const missing = await api.post('/auth/password/reset/confirm/', { uid: 'MQ', new_password: NEW_PASSWORD })
  tt.equal(missing.status, 400)
  tt.equal(missing.body.code, 'invalid_data')
  tt.same(
    missing.body.errors.map((e: { field: string }) => e.field),
    ['body.token'],
  )
  const extra = await api.post('/auth/password/reset/confirm/', {
    uid: 'MQ',
    token: 'x',
    new_password: NEW_PASSWORD,
    re_new_password: NEW_PASSWORD,
  })
  tt.equal(extra.status, 400)
  tt.same(
    extra.body.errors.map((e: { field: string }) => e.field),
    ['body.re_new_password'],
  )
})

t.test('HTML page: the emailed link shows a form that completes the reset', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const other = (await login(api, user.email, user.password)).body.auth_token as string
  const { path } = await requestReset(built, user.email)
  for (const url of [path, path.replace(/\/$/, '')]) {
    const page = await api.get(url)
    tt.equal(page.status, 200, url)
    tt.match(String(page.headers['content-type']), /^text\/html/)
    tt.match(page.text, /<form[^>]*method="post"/i)
    tt.match(page.text, /<input[^>]*name="new_password"/)
    tt.match(page.text, /<input[^>]*name="re_new_password"/)
    tt.notMatch(page.text, /<script/i, 'no scripts needed')
  }
  const done = await api.post(path, undefined, { form: { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD } })
  tt.equal(done.status, 200)
  tt.match(String(done.headers['content-type']), /^text\/html/)
  tt.match(done.text, /password was changed/i)
  tt.notMatch(done.text, /<form/i)
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200)
  tt.equal((await login(api, user.email, user.password)).body.code, 'invalid_credentials')
  for (const session of [user.token, other])
    tt.equal((await api.get('/auth/users/me/', { token: session })).status, 401)

  // The used link now says it is invalid, and cannot be submitted again.
  const used = await api.get(path)
  tt.equal(used.status, 400)
  tt.match(String(used.headers['content-type']), /^text\/html/)
  tt.match(used.text, /invalid/i)
  tt.notMatch(used.text, /<form/i)
  const resubmit = await api.post(path, undefined, {
    form: { new_password: 'another-new-passphrase', re_new_password: 'another-new-passphrase' },
  })
  tt.equal(resubmit.status, 400)
  tt.match(resubmit.text, /invalid/i)
  tt.equal((await login(api, user.email, NEW_PASSWORD)).status, 200)
})

t.test('HTML page: mismatched or weak passwords are a 400 page with the form, nothing changes', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const { path } = await requestReset(built, user.email)
  const mismatch = await api.post(path, undefined, {
    form: { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD + 'x' },
  })
  tt.equal(mismatch.status, 400)
  tt.match(String(mismatch.headers['content-type']), /^text\/html/)
  tt.match(mismatch.text, /do not match/i)
  tt.match(mismatch.text, /<form[^>]*method="post"/i)
  const weak = await api.post(path, undefined, { form: { new_password: 'iloveyou', re_new_password: 'iloveyou' } })
  tt.equal(weak.status, 400)
  tt.match(weak.text, /too common/i)
  tt.equal((await login(api, user.email, user.password)).status, 200, 'the password is unchanged')
  tt.equal((await api.get('/auth/users/me/', { token: user.token })).status, 200, 'sessions were not revoked')
  // The link survives the rejected tries.
  tt.equal(
    (await api.post(path, undefined, { form: { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD } })).status,
    200,
  )
})

t.test('HTML page: an invalid link is a 400 page saying so, without a form', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const { uid, token } = await requestReset(built, user.email)
  for (const path of [
    `/auth/password/reset/confirm/${uid}/${token.slice(0, -1)}x/`,
    `/auth/password/reset/confirm/${encodeUid(999_999)}/${token}/`,
  ]) {
    const page = await api.get(path)
    tt.equal(page.status, 400, path)
    tt.match(String(page.headers['content-type']), /^text\/html/)
    tt.match(page.text, /invalid/i)
    tt.notMatch(page.text, /<form/i)
    const post = await api.post(path, undefined, {
      form: { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD },
    })
    tt.equal(post.status, 400)
    tt.match(post.text, /invalid/i)
  }
  tt.equal((await login(api, user.email, user.password)).status, 200)
})

t.test('HTML page: no user input is reflected unescaped', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const evil = '<img src=x onerror=alert(1)>'
  const markup = encodeURIComponent('"><script>alert(1)</script>')
  const pathWithMarkup = `/auth/password/reset/confirm/${encodeURIComponent(evil)}/${markup}/`
  const invalid = await api.get(pathWithMarkup)
  tt.equal(invalid.status, 400)
  tt.match(String(invalid.headers['content-type']), /^text\/html/)
  tt.notMatch(invalid.text, /<img|<script|onerror/i)

  const { path } = await requestReset(built, user.email)
  const submitted = await api.post(path, undefined, { form: { new_password: evil + 'A', re_new_password: evil + 'B' } })
  tt.equal(submitted.status, 400)
  tt.notMatch(submitted.text, /<img|onerror/i, 'the typed passwords are not echoed, escaped or not')
  const similar = await api.post(path, undefined, { form: { new_password: user.email, re_new_password: user.email } })
  tt.equal(similar.status, 400)
  tt.notMatch(similar.text, /value="/, 'the form is never refilled with a password')
})

t.test('HTML page: the application name is escaped', async (tt) => {
  const built = await buildWithMail(tt, { publicUrl: PUBLIC_URL, applicationName: '<b>Evil & "Co"</b>' })
  const user = await signUp(built.api)
  const { path } = await requestReset(built, user.email)
  const page = await built.api.get(path)
  tt.equal(page.status, 200)
  tt.match(page.text, '&lt;b&gt;Evil &amp; &quot;Co&quot;&lt;/b&gt;')
  tt.notMatch(page.text, '<b>Evil')
})

// The spec allows tokens up to 128 characters in this path; a link mangled by a mail client must
// still land on the page, not on a framework error.
t.test('HTML page: a long (but schema-valid) token in the link answers the invalid-link page', async (tt) => {
  const { api } = await setup(tt)
  const page = await api.get(`/auth/password/reset/confirm/MQ/${'a'.repeat(120)}/`)
  tt.equal(page.status, 400)
  tt.match(String(page.headers['content-type']), /^text\/html/)
  tt.match(page.text, /invalid/i)
})

// Past THROTTLE_ANON a person opening the link or submitting the form gets a page saying when to
// come back (Retry-After as for every 429), not the JSON error the API's programs get.
t.test('HTML page: throttled, the link and the form answer a 429 page with Retry-After; the API JSON', async (tt) => {
  // Sign-up, login and the reset request use up 127.0.0.1's three; the page is opened from elsewhere.
  const built = await setup(tt, { throttleAnon: '3/hour' })
  const { api, user } = built
  const remoteAddress = '10.44.0.7'
  const { path } = await requestReset(built, user.email)
  tt.equal((await api.get(path, { remoteAddress })).status, 200, 'the first opening shows the form')
  const form = { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD + 'x' }
  tt.equal((await api.post(path, undefined, { form, remoteAddress })).status, 400, 'a typo: the form again')
  tt.equal((await api.get(path, { remoteAddress })).status, 200, 'opened again')
  for (const res of [
    await api.get(path, { remoteAddress }),
    await api.post(path, undefined, { form, remoteAddress }),
  ]) {
    tt.equal(res.status, 429)
    tt.match(String(res.headers['content-type']), /^text\/html/)
    tt.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/)
    tt.match(res.text, /Too many attempts/)
    tt.match(res.text, /Try again in [0-9]+ minutes/)
    tt.notMatch(res.text, /<form|<script/i)
  }
  const json = await api.post('/auth/password/reset/', { email: user.email }, { remoteAddress })
  tt.same([json.status, json.body.code], [429, 'throttled'], 'the JSON operation keeps its JSON error')
  const elsewhere = await api.post(
    '/auth/login/',
    { email: user.email, password: user.password },
    { remoteAddress: '10.44.0.8' },
  )
  tt.equal(elsewhere.status, 200, 'the password is unchanged')
})

t.test('HTML page: a JSON body is 415 and changes nothing', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const { path } = await requestReset(built, user.email)
  const json = await api.post(path, { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD })
  tt.equal(json.status, 415)
  tt.equal(json.body.code, 'unsupported_media_type')
  tt.equal((await login(api, user.email, user.password)).status, 200, 'the password is unchanged')
})

// openapi.yaml documents this operation's 400 as text/html only, so a form that breaks the schema
// must answer the HTML page too (the contract check in the helper fails on anything else).
t.test('HTML page: a form missing a field or with an extra one is a 400 HTML page', async (tt) => {
  const built = await setup(tt)
  const { api, user } = built
  const { path } = await requestReset(built, user.email)
  const forms = {
    'missing re_new_password': { new_password: NEW_PASSWORD },
    'extra field': { new_password: NEW_PASSWORD, re_new_password: NEW_PASSWORD, uid: '1' },
  }
  for (const [name, form] of Object.entries(forms)) {
    const res = await api.post(path, undefined, { form })
    tt.equal(res.status, 400, name)
    tt.match(String(res.headers['content-type']), /^text\/html/, name)
  }
  tt.equal((await login(api, user.email, user.password)).status, 200, 'the password is unchanged')
})

t.test('the reset mail respects PUBLIC_URL without a trailing slash doubling', async (tt) => {
  const built = await buildWithMail(tt, { publicUrl: `${PUBLIC_URL}/` })
  const user = await signUp(built.api)
  const { link } = await requestReset(built, user.email)
  tt.match(link, /^https:\/\/chat\.example\.org\/auth\/password\/reset\/confirm\//)
})
