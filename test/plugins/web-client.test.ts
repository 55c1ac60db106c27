// plugins/web-client.ts: the page at / and its hashed assets under /app/, with their policy and
// caching; off with WEB_CLIENT=false; and a server without a built bundle still starts.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { build } from '../helper.js'
import { WEB_CLIENT_CSP } from '../../plugins/web-client.js'
import { webBundle } from '../web-bundle.js'

t.test('GET / answers the page, under the strict policy, revalidated each visit', async (tt) => {
  const dir = await webBundle()
  const { app } = await build(tt, { webClient: true, webClientDir: dir })
  // off-contract: the web client's page is no operation of the spec, like /docs
  const page = await app.inject({ method: 'GET', url: '/' })
  tt.equal(page.statusCode, 200)
  tt.match(page.headers['content-type'], /^text\/html/)
  tt.equal(page.headers['content-security-policy'], WEB_CLIENT_CSP)
  tt.match(WEB_CLIENT_CSP, /default-src 'none'/)
  tt.notMatch(WEB_CLIENT_CSP, /unsafe/, 'no unsafe-inline, no unsafe-eval')
  tt.equal(page.headers['cache-control'], 'no-cache')
  tt.equal(page.body, readFileSync(join(dir, 'index.html'), 'utf8'))
  tt.notMatch(page.body, /<script>|<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script')

  const assets = [...page.body.matchAll(/"\/app\/([^"]+)"/g)].map((m) => m[1])
  tt.same(
    assets.map((a) => a.replace(/-[A-Z0-9]+\./, '-<hash>.')),
    ['icon-<hash>.svg', 'style-<hash>.css', 'main-<hash>.js'],
    'the icon, stylesheet and script, named by their hash',
  )
  for (const [name, type] of [
    [assets[0], /^image\/svg\+xml/],
    [assets[1], /^text\/css/],
    [assets[2], /^text\/javascript/],
  ] as const) {
    // off-contract: the web client's assets are outside the spec, like /docs
    const res = await app.inject({ method: 'GET', url: `/app/${name}` })
    tt.equal(res.statusCode, 200, name)
    tt.match(res.headers['content-type'], type)
    tt.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', 'cached for good: the name changes')
  }
  // off-contract: a name that was never built
  const missing = await app.inject({ method: 'GET', url: '/app/main-OLDHASH.js' })
  tt.equal(missing.statusCode, 404)
  tt.equal(missing.json().code, 'not_found', 'in the API error shape')
})

t.test('WEB_CLIENT=false: no page at /', async (tt) => {
  const { app } = await build(tt, { webClient: false, webClientDir: await webBundle() })
  // off-contract: checking that the page is gone
  const res = await app.inject({ method: 'GET', url: '/' })
  tt.equal(res.statusCode, 404)
})

// It also logs a warning saying to run `npm run build`.
t.test('without a built bundle the server starts, and / answers 404', async (tt) => {
  const empty = mkdtempSync(join(tmpdir(), 'no-web-client-'))
  const { app } = await build(tt, { webClient: true, webClientDir: empty })
  // off-contract: checking that the page is absent
  const res = await app.inject({ method: 'GET', url: '/' })
  tt.equal(res.statusCode, 404)
})
