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
function directives(tt: Test, csp: unknown): Record<string, string> {
  const parts = String(csp)
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
  const map = Object.fromEntries(parts.map((d) => [d.split(/\s+/)[0], d.split(/\s+/).slice(1).join(' ')]))
  tt.equal(Object.keys(map).length, parts.length, 'no directive appears twice')
  return map
}

/** Every answer, JSON or HTML, success or error, carries the same hardening. */
function checkHeaders(tt: Test, res: ApiResponse, styleHash: string, corp: 'same-origin' | 'cross-origin') {
  // Exactly these directives: anything more (script-src, img-src...) would loosen default-src 'none'.
  tt.same(
    directives(tt, res.headers['content-security-policy']),
    {
      'default-src': "'none'",
      'style-src': styleHash,
      'form-action': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
    },
    'content-security-policy',
  )
  tt.equal(res.headers['x-content-type-options'], 'nosniff', 'x-content-type-options')
  // helmet's default; browsers that know CSP obey frame-ancestors 'none' above, which is stricter.
  tt.equal(res.headers['x-frame-options'], 'DENY', 'x-frame-options')
  tt.equal(res.headers['referrer-policy'], 'no-referrer', 'referrer-policy')
  tt.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', 'strict-transport-security')
  tt.equal(res.headers['cross-origin-resource-policy'], corp, 'cross-origin-resource-policy')
  tt.equal(res.headers['cross-origin-opener-policy'], 'same-origin', 'cross-origin-opener-policy')
  tt.equal(res.headers['cache-control'], 'no-store', 'cache-control')
  tt.equal(res.headers['x-powered-by'], undefined, 'x-powered-by')
}

/** What the browser would run or load from the page besides the hashed style: nothing. */
function checkPageIsInert(tt: Test, html: string) {
  tt.notMatch(html, /<script/i, 'no script element')
  tt.notMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler')
  tt.notMatch(html, /\sstyle\s*=/i, 'no style attribute (the CSP would block it)')
  tt.notMatch(html, /<(link|img|iframe|object|embed|base)\b/i, 'nothing else to fetch or embed')
  tt.notMatch(html, /<form[^>]*\saction\s*=/i, 'a form posts back to the page itself')
}

async function resetLink(app: Awaited<ReturnType<typeof build>>['app'], userId: number) {
  const user = await app.db.users.findById(userId)
  if (!user) throw new Error('no such user')
  return `/auth/password/reset/confirm/${encodeUid(user.id)}/${makeResetToken(app.config.secretKey, user)}/`
}

t.test('the reset page: CSP style-src is the hash of the page’s own <style> text; no script', async (tt) => {
  const { api } = await build(tt)
  const invalid = await api.get(MALFORMED_LINK)
  tt.equal(invalid.status, 400, 'an invalid link is a 400 page (a page a person reads, not JSON)')
  tt.equal(invalid.headers['content-type'], 'text/html; charset=utf-8')
  tt.match(invalid.text, '<h1>Link invalid</h1>', 'the malformed link shows the invalid-link page')
  const styleHash = styleHashOf(invalid.text)
  checkHeaders(tt, invalid, styleHash, 'same-origin')
  checkPageIsInert(tt, invalid.text)
  tt.notMatch(invalid.text, '<form', 'an invalid link offers no form')
})

t.test('the reset form, its 400 re-render and the invalid-link 400 all carry the same policy', async (tt) => {
  const { app, api } = await build(tt)
  const styleHash = styleHashOf((await api.get(MALFORMED_LINK)).text)
  const user = await signUp(api)
  const link = await resetLink(app, user.id)

  const form = await api.get(link)
  tt.equal(form.status, 200)
  tt.match(form.text, /<form method="post">/)
  tt.equal(styleHashOf(form.text), styleHash, 'the form page has the same, hashed, style block')
  checkHeaders(tt, form, styleHash, 'same-origin')
  checkPageIsInert(tt, form.text)

  const mismatch = await api.post(link, undefined, {
    form: { new_password: 'staple-lantern-orbit', re_new_password: 'other-lantern-orbit' },
  })
  tt.equal(mismatch.status, 400)
  tt.match(mismatch.text, 'The two passwords do not match.')
  tt.equal(styleHashOf(mismatch.text), styleHash)
  checkHeaders(tt, mismatch, styleHash, 'same-origin')
  checkPageIsInert(tt, mismatch.text)

  const invalidPost = await api.post(MALFORMED_LINK, undefined, {
    form: { new_password: PASSWORD, re_new_password: PASSWORD },
  })
  tt.equal(invalidPost.status, 400)
  tt.equal(invalidPost.headers['content-type'], 'text/html; charset=utf-8')
  tt.match(invalidPost.text, '<h1>Link invalid</h1>')
  checkHeaders(tt, invalidPost, styleHash, 'same-origin')
})

t.test('JSON answers (200, 400, 401, 404, 405) carry the headers and no-store', async (tt) => {
  const { api } = await build(tt)
  const styleHash = styleHashOf((await api.get(MALFORMED_LINK)).text)
  const user = await signUp(api)

  const config = await api.get('/auth/mfa/config/', { token: user.token })
  tt.equal(config.status, 200)
  tt.equal(config.headers['content-type'], 'application/json; charset=utf-8')
  checkHeaders(tt, config, styleHash, 'same-origin')

  const invalid = await api.post('/auth/users/', { email: 'not-an-email', password: PASSWORD })
  tt.equal(invalid.status, 400)
  tt.equal(invalid.body.code, 'invalid_data')
  checkHeaders(tt, invalid, styleHash, 'same-origin')

  const anonymous = await api.get('/auth/mfa/config/')
  tt.equal(anonymous.status, 401)
  tt.equal(anonymous.body.code, 'not_authenticated')
  checkHeaders(tt, anonymous, styleHash, 'same-origin')

  const missing = await api.get('/no-such-path/')
  tt.equal(missing.status, 404)
  tt.equal(missing.body.code, 'not_found')
  checkHeaders(tt, missing, styleHash, 'same-origin')

  const wrongMethod = await api.delete('/auth/mfa/config/', undefined, { token: user.token })
  tt.equal(wrongMethod.status, 405)
  tt.equal(wrongMethod.body.code, 'method_not_allowed')
  checkHeaders(tt, wrongMethod, styleHash, 'same-origin')

  const created = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })
  tt.equal(created.status, 201)
  checkHeaders(tt, created, styleHash, 'same-origin')
})

t.test('an answer refused by ALLOWED_HOSTS carries the same headers', async (tt) => {
  const { api } = await build(tt, { allowedHosts: ['api.example.com'] })
  const styleHash = styleHashOf((await api.get(MALFORMED_LINK, { headers: { host: 'api.example.com' } })).text)
  const refused = await api.get('/auth/mfa/config/', { headers: { host: 'evil.example' } })
  tt.equal(refused.status, 400)
  tt.equal(refused.body.code, 'invalid_host')
  checkHeaders(tt, refused, styleHash, 'same-origin')
})

t.test('with CORS configured, resources are cross-origin readable; everything else is unchanged', async (tt) => {
  const { app, api } = await build(tt, { corsAllowedOrigins: ['https://app.example.com'] })
  const origin = { origin: 'https://app.example.com' }
  const page = await api.get(MALFORMED_LINK, { headers: origin })
  const styleHash = styleHashOf(page.text)
  checkHeaders(tt, page, styleHash, 'cross-origin')
  const user = await signUp(api)
  const config = await api.get('/auth/mfa/config/', { token: user.token, headers: origin })
  tt.equal(config.status, 200)
  checkHeaders(tt, config, styleHash, 'cross-origin')
  const anonymous = await api.get('/auth/mfa/config/', { headers: origin })
  tt.equal(anonymous.status, 401)
  checkHeaders(tt, anonymous, styleHash, 'cross-origin')
  const form = await api.get(await resetLink(app, user.id), { headers: origin })
  tt.equal(form.status, 200)
  checkHeaders(tt, form, styleHash, 'cross-origin')
})
