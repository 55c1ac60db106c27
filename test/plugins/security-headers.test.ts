import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { build, PASSWORD, signUp, uniqueEmail, type ApiResponse } from '../helper.js'
import { encodeUid, makeResetToken } from '../../lib/reset-tokens.js'

const MALFORMED_LINK = '/auth/password/reset/confirm/not-a-uid/not-a-token/'

/** The CSP hash source a browser computes for the page's one <style> element. */
function styleHashOf(html: string): string {
  const blocks = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)]
  if (blocks.length !== 1) throw new Error(`expected one <style> block, found ${blocks.length}`)
  return `'sha256-${createHash('sha256').update(blocks[0][1], 'utf8').digest('base64')}'`
}

/** The policy as name → value, failing on a directive given twice (browsers ignore the second). */
function directives(t: Test, csp: unknown): Record<string, string> {
  const parts = String(csp)
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
  const map = Object.fromEntries(parts.map((d) => [d.split(/\s+/)[0], d.split(/\s+/).slice(1).join(' ')]))
  t.equal(Object.keys(map).length, parts.length, 'no directive appears twice')
  return map
}

/** Every answer, JSON or HTML, success or error, carries the same hardening. */
function checkHeaders(t: Test, res: ApiResponse, styleHash: string, corp: 'same-origin' | 'cross-origin') {
  // Exactly these directives: anything more (script-src, img-src...) would loosen default-src 'none'.
  t.same(
    directives(t, res.headers['content-security-policy']),
    {
      'default-src': "'none'",
      'style-src': styleHash,
      'form-action': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
    },
    'content-security-policy',
  )
  t.equal(res.headers['x-content-type-options'], 'nosniff', 'x-content-type-options')
  // helmet's default; browsers that know CSP obey frame-ancestors 'none' above, which is stricter.
  t.equal(res.headers['x-frame-options'], 'DENY', 'x-frame-options')
  t.equal(res.headers['referrer-policy'], 'no-referrer', 'referrer-policy')
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', 'strict-transport-security')
  t.equal(res.headers['cross-origin-resource-policy'], corp, 'cross-origin-resource-policy')
  t.equal(res.headers['cross-origin-opener-policy'], 'same-origin', 'cross-origin-opener-policy')
  t.equal(res.headers['cache-control'], 'no-store', 'cache-control')
  t.equal(res.headers['x-powered-by'], undefined, 'x-powered-by')
}

/** What the browser would run or load from the page besides the hashed style: nothing. */
function checkPageIsInert(t: Test, html: string) {
  t.notMatch(html, /<script/i, 'no script element')
  t.notMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler')
  t.notMatch(html, /\sstyle\s*=/i, 'no style attribute (the CSP would block it)')
  t.notMatch(html, /<(link|img|iframe|object|embed|base)\b/i, 'nothing else to fetch or embed')
  t.notMatch(html, /<form[^>]*\saction\s*=/i, 'a form posts back to the page itself')
}

async function resetLink(app: Awaited<ReturnType<typeof build>>['app'], userId: number) {
  const user = await app.db.users.findById(userId)
  if (!user) throw new Error('no such user')
  return `/auth/password/reset/confirm/${encodeUid(user.id)}/${makeResetToken(app.config.secretKey, user)}/`
}

t.test('the reset page: CSP style-src is the hash of the page’s own <style> text; no script', async (t) => {
  const { api } = await build(t)
  const invalid = await api.get(MALFORMED_LINK)
  t.equal(invalid.status, 200)
  t.equal(invalid.headers['content-type'], 'text/html; charset=utf-8')
  t.match(invalid.text, '<h1>Link invalid</h1>', 'the malformed link shows the invalid-link page')
  const styleHash = styleHashOf(invalid.text)
  checkHeaders(t, invalid, styleHash, 'same-origin')
  checkPageIsInert(t, invalid.text)
  t.notMatch(invalid.text, '<form', 'an invalid link offers no form')
})

t.test('the reset form, its 400 re-render and the invalid-link 400 all carry the same policy', async (t) => {
  const { app, api } = await build(t)
  const styleHash = styleHashOf((await api.get(MALFORMED_LINK)).text)
  const user = await signUp(api)
  const link = await resetLink(app, user.id)

  const form = await api.get(link)
  t.equal(form.status, 200)
  t.match(form.text, /<form method="post">/)
  t.equal(styleHashOf(form.text), styleHash, 'the form page has the same, hashed, style block')
  checkHeaders(t, form, styleHash, 'same-origin')
  checkPageIsInert(t, form.text)

  const mismatch = await api.post(link, undefined, {
    form: { new_password: 'staple-lantern-orbit', re_new_password: 'other-lantern-orbit' },
  })
  t.equal(mismatch.status, 400)
  t.match(mismatch.text, 'The two passwords do not match.')
  t.equal(styleHashOf(mismatch.text), styleHash)
  checkHeaders(t, mismatch, styleHash, 'same-origin')
  checkPageIsInert(t, mismatch.text)

  const invalidPost = await api.post(MALFORMED_LINK, undefined, {
    form: { new_password: PASSWORD, re_new_password: PASSWORD },
  })
  t.equal(invalidPost.status, 400)
  t.equal(invalidPost.headers['content-type'], 'text/html; charset=utf-8')
  t.match(invalidPost.text, '<h1>Link invalid</h1>')
  checkHeaders(t, invalidPost, styleHash, 'same-origin')
})

t.test('JSON answers (200, 400, 401, 404, 405) carry the headers and no-store', async (t) => {
  const { api } = await build(t)
  const styleHash = styleHashOf((await api.get(MALFORMED_LINK)).text)
  const user = await signUp(api)

  const config = await api.get('/auth/mfa/config/', { token: user.token })
  t.equal(config.status, 200)
  t.equal(config.headers['content-type'], 'application/json; charset=utf-8')
  checkHeaders(t, config, styleHash, 'same-origin')

  const invalid = await api.post('/auth/users/', { email: 'not-an-email', password: PASSWORD })
  t.equal(invalid.status, 400)
  t.equal(invalid.body.code, 'invalid_data')
  checkHeaders(t, invalid, styleHash, 'same-origin')

  const anonymous = await api.get('/auth/mfa/config/')
  t.equal(anonymous.status, 401)
  t.equal(anonymous.body.code, 'not_authenticated')
  checkHeaders(t, anonymous, styleHash, 'same-origin')

  const missing = await api.get('/no-such-path/')
  t.equal(missing.status, 404)
  t.equal(missing.body.code, 'not_found')
  checkHeaders(t, missing, styleHash, 'same-origin')

  const wrongMethod = await api.delete('/auth/mfa/config/', undefined, { token: user.token })
  t.equal(wrongMethod.status, 405)
  t.equal(wrongMethod.body.code, 'method_not_allowed')
  checkHeaders(t, wrongMethod, styleHash, 'same-origin')

  const created = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })
  t.equal(created.status, 201)
  checkHeaders(t, created, styleHash, 'same-origin')
})

t.test('an answer refused by ALLOWED_HOSTS carries the same headers', async (t) => {
  const { api } = await build(t, { allowedHosts: ['api.example.com'] })
  const styleHash = styleHashOf((await api.get(MALFORMED_LINK, { headers: { host: 'api.example.com' } })).text)
  const refused = await api.get('/auth/mfa/config/', { headers: { host: 'evil.example' } })
  t.equal(refused.status, 400)
  t.equal(refused.body.code, 'invalid_host')
  checkHeaders(t, refused, styleHash, 'same-origin')
})

t.test('with CORS configured, resources are cross-origin readable; everything else is unchanged', async (t) => {
  const { app, api } = await build(t, { corsAllowedOrigins: ['https://app.example.com'] })
  const origin = { origin: 'https://app.example.com' }
  const page = await api.get(MALFORMED_LINK, { headers: origin })
  const styleHash = styleHashOf(page.text)
  checkHeaders(t, page, styleHash, 'cross-origin')
  const user = await signUp(api)
  const config = await api.get('/auth/mfa/config/', { token: user.token, headers: origin })
  t.equal(config.status, 200)
  checkHeaders(t, config, styleHash, 'cross-origin')
  const anonymous = await api.get('/auth/mfa/config/', { headers: origin })
  t.equal(anonymous.status, 401)
  checkHeaders(t, anonymous, styleHash, 'cross-origin')
  const form = await api.get(await resetLink(app, user.id), { headers: origin })
  t.equal(form.status, 200)
  checkHeaders(t, form, styleHash, 'cross-origin')
})
