import t from 'tap'
import { operations } from '../../lib/spec.js'
import { build, signUp, uniqueEmail } from '../helper.js'

// Walks every operation in openapi.yaml and checks the answers the openapi plugin composes for all
// of them alike: authentication from the spec's `security`, throttles, body type and size. The
// client fails the test on any answer the spec does not document for that operation.

const sample: Record<string, string> = {
  registrationId: '1',
  recipientEmail: 'nobody@example.com',
  method: 'app',
  uid: 'MQ',
  token: 'x',
}
const urlOf = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(sample[name]))
const all = [...operations.values()]

t.test('every authenticated operation refuses a request without a valid token, before reading the body', async (tt) => {
  const { api } = await build(tt)
  for (const op of all.filter((o) => o.authenticated)) {
    for (const token of [undefined, 'not-a-token']) {
      const res = await api.request(op.method, urlOf(op.path), op.bodyTypes.length ? { not: 'valid' } : undefined, {
        token,
      })
      tt.equal(res.status, 401, `${op.operationId} with ${token ?? 'no token'}`)
      tt.equal(res.body.code, 'not_authenticated', op.operationId)
    }
  }
})

t.test(
  'every operation that takes a body answers 415 for another content type and 413 for an oversized one',
  async (tt) => {
    const { api } = await build(tt)
    const user = await signUp(api)
    const huge = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) })
    for (const op of all.filter((o) => o.bodyTypes.length)) {
      const token = op.authenticated ? user.token : undefined
      const plain = await api.request(op.method, urlOf(op.path), undefined, {
        token,
        raw: 'hello',
        headers: { 'content-type': 'text/plain' },
      })
      tt.equal(plain.status, 415, `${op.operationId} text/plain`)
      tt.equal(plain.body.code, 'unsupported_media_type', op.operationId)
      const big = await api.request(op.method, urlOf(op.path), undefined, {
        token,
        raw: huge,
        headers: { 'content-type': op.bodyTypes[0] },
      })
      tt.equal(big.status, 413, `${op.operationId} oversized`)
      tt.equal(big.body.code, 'request_too_large', op.operationId)
    }
  },
)

t.test('every operation is throttled: per IP when anonymous, per user when authenticated', async (tt) => {
  const { api } = await build(tt, { throttleAnon: '1/hour', throttleUser: '1/hour', throttlePrekeybundle: '1/hour' })
  let ip = 1
  // Except the health probes (`x-probe`), never throttled: test/routes/health.test.ts.
  for (const op of all.filter((o) => !o.probe)) {
    // A fresh client per operation, so each starts with a full allowance.
    const remoteAddress = `10.9.${Math.floor(ip / 250)}.${(ip++ % 250) + 1}`
    // Two sessions of one user: the limit counts per user, and logout ends the first one.
    const tokens: (string | undefined)[] = [undefined, undefined]
    if (op.authenticated) {
      const email = uniqueEmail()
      const password = 'correct-horse-battery'
      await api.post('/auth/users/', { email, password }, { remoteAddress: `10.8.0.${ip % 250}` })
      for (const i of [0, 1])
        tokens[i] = (
          await api.post('/auth/login/', { email, password }, { remoteAddress: `10.${6 + i}.0.${ip % 250}` })
        ).body.auth_token
    }
    const body = op.bodyTypes.length ? {} : undefined
    await api.request(op.method, urlOf(op.path), body, { token: tokens[0], remoteAddress })
    const second = await api.request(op.method, urlOf(op.path), body, { token: tokens[1], remoteAddress })
    tt.equal(second.status, 429, `${op.operationId} second call`)
    // The pages a person opens from a mail answer a page; everything else the JSON error.
    if (op.responseTypes['429'] === 'text/html') tt.match(second.text, /Too many attempts/, op.operationId)
    else tt.equal(second.body.code, 'throttled', op.operationId)
    tt.match(String(second.headers['retry-after']), /^[1-9][0-9]*$/, `${op.operationId} Retry-After`)
  }
})
