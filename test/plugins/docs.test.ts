import t from 'tap'
import { build } from '../helper.js'
import { DOCS_CSP } from '../../plugins/docs.js'
import { spec } from '../../lib/spec.js'

// off-contract: /docs and its assets document the API; they are not operations of openapi.yaml.
t.test('GET /docs serves Swagger UI of openapi.yaml from this server, security headers on', async (tt) => {
  const { app } = await build(tt)
  const page = await app.inject({ method: 'GET', url: '/docs' })
  tt.equal(page.statusCode, 200)
  tt.match(page.headers['content-type'], /^text\/html; charset=utf-8/)
  tt.equal(page.headers['content-security-policy'], DOCS_CSP)
  tt.notMatch(DOCS_CSP, /unsafe-|\*|https?:/, 'no inline script or style, no eval, no other origin')
  tt.match(DOCS_CSP, /default-src 'none'/)
  tt.match(DOCS_CSP, /frame-ancestors 'none'/)
  for (const [header, value] of Object.entries({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  })) {
    tt.equal(page.headers[header], value, header)
  }
  tt.match(page.headers['strict-transport-security'], /max-age=31536000/)
  tt.notMatch(
    page.body,
    /<script>|<script [^>]*>[^<\s]|<style|\sstyle=|\son[a-z]+=/i,
    'no inline script, style or handler',
  )
  const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
  tt.ok(refs.length >= 4, 'loads its assets')
  for (const ref of refs) {
    tt.match(ref, /^\/docs\//, `${ref} is served by this server`)
    const asset = await app.inject({ method: 'GET', url: ref })
    tt.equal(asset.statusCode, 200, `${ref} served`)
    tt.ok(asset.rawPayload.length > 0, `${ref} not empty`)
    tt.equal(asset.headers['x-content-type-options'], 'nosniff', `${ref}: nosniff`)
  }
  const js = await app.inject({ method: 'GET', url: '/docs/swagger-ui-bundle.js' })
  tt.match(js.headers['content-type'], /^text\/javascript/)
  tt.match(js.body, /SwaggerUIBundle/)
  const css = await app.inject({ method: 'GET', url: '/docs/swagger-ui.css' })
  tt.match(css.headers['content-type'], /^text\/css/)
  tt.match(css.headers['cache-control'], /max-age=/, 'assets may be cached')
  const init = await app.inject({ method: 'GET', url: '/docs/init.js' })
  tt.match(init.body, /url: '\/docs\/openapi\.json'/, 'the initializer loads the spec from this server')
  tt.match(init.body, /validatorUrl: null/, 'and sends it nowhere else')
  tt.equal(page.headers['cache-control'], 'no-store')
})

// off-contract: /docs/openapi.json serves the contract; it is not an operation of it.
t.test('GET /docs/openapi.json is openapi.yaml as JSON', async (tt) => {
  const { app } = await build(tt)
  const res = await app.inject({ method: 'GET', url: '/docs/openapi.json' })
  tt.equal(res.statusCode, 200)
  tt.match(res.headers['content-type'], /^application\/json/)
  tt.same(res.json(), spec)
  tt.equal(res.headers['content-security-policy'], DOCS_CSP)
})

// off-contract: paths under /docs belong to the docs plugin, not to openapi.yaml.
t.test('only the listed assets: other paths under /docs are 404 in the error shape', async (tt) => {
  const { app } = await build(tt)
  for (const url of [
    '/docs/package.json',
    '/docs/../package.json',
    '/docs/swagger-ui.js.map',
    '/docs/index.html',
    '/docs/%2e%2e%2fpackage.json',
  ]) {
    const res = await app.inject({ method: 'GET', url })
    tt.equal(res.statusCode, 404, url)
    tt.equal(res.json().code, 'not_found', `${url}: error shape`)
  }
  const post = await app.inject({ method: 'POST', url: '/docs' })
  tt.equal(post.statusCode, 404, 'POST: no such route')
})
