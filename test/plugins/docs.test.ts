import t from 'tap'
import { build } from '../helper.js'
import { DOCS_CSP } from '../../plugins/docs.js'
import { spec } from '../../lib/spec.js'

t.test('GET /docs serves Swagger UI of openapi.yaml from this server, security headers on', async (t) => {
  const { app } = await build(t)
  const page = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(page.headers['content-security-policy'], DOCS_CSP)
  t.notMatch(DOCS_CSP, /unsafe-|\*|https?:/, 'no inline script or style, no eval, no other origin')
  t.match(DOCS_CSP, /default-src 'none'/)
  t.match(DOCS_CSP, /frame-ancestors 'none'/)
  for (const [header, value] of Object.entries({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  })) {
    t.equal(page.headers[header], value, header)
  }
  t.match(page.headers['strict-transport-security'], /max-age=31536000/)
  t.notMatch(
    page.body,
    /<script>|<script [^>]*>[^<\s]|<style|\sstyle=|\son[a-z]+=/i,
    'no inline script, style or handler',
  )
  const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
  t.ok(refs.length >= 4, 'loads its assets')
  for (const ref of refs) {
    t.match(ref, /^\/docs\//, `${ref} is served by this server`)
    const asset = await app.inject({ method: 'GET', url: ref })
    t.equal(asset.statusCode, 200, `${ref} served`)
    t.ok(asset.rawPayload.length > 0, `${ref} not empty`)
    t.equal(asset.headers['x-content-type-options'], 'nosniff', `${ref}: nosniff`)
  }
  const js = await app.inject({ method: 'GET', url: '/docs/swagger-ui-bundle.js' })
  t.match(js.headers['content-type'], /^text\/javascript/)
  t.match(js.body, /SwaggerUIBundle/)
  const css = await app.inject({ method: 'GET', url: '/docs/swagger-ui.css' })
  t.match(css.headers['content-type'], /^text\/css/)
  t.match(css.headers['cache-control'], /max-age=/, 'assets may be cached')
  const init = await app.inject({ method: 'GET', url: '/docs/init.js' })
  t.match(init.body, /url: '\/docs\/openapi\.json'/, 'the initializer loads the spec from this server')
  t.match(init.body, /validatorUrl: null/, 'and sends it nowhere else')
  t.equal(page.headers['cache-control'], 'no-store')
})

t.test('GET /docs/openapi.json is openapi.yaml as JSON', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), spec)
  t.equal(res.headers['content-security-policy'], DOCS_CSP)
})

t.test('only the listed assets: other paths under /docs are 404 in the error shape', async (t) => {
  const { app } = await build(t)
  for (const url of [
    '/docs/package.json',
    '/docs/../package.json',
    '/docs/swagger-ui.js.map',
    '/docs/index.html',
    '/docs/%2e%2e%2fpackage.json',
  ]) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'not_found', `${url}: error shape`)
  }
  const post = await app.inject({ method: 'POST', url: '/docs' })
  t.equal(post.statusCode, 404, 'POST: no such route')
})
