import t from 'tap'
import { operations } from '../../lib/spec.js'
import { build } from '../helper.js'

// Documented answers that no feature test has a reason to produce, provoked here for every
// operation alike, straight from openapi.yaml. The client checks each answer against the
// operation's documented response, so an operation that answers without documenting it fails.
// scripts/coverage-gate.ts is what finds such answers: a documented status no test produced.

const sample: Record<string, string> = {
  registrationId: '1',
  recipientEmail: 'nobody@example.com',
  method: 'app',
  uid: 'MQ',
  token: 'x',
}
const urlOf = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(sample[name]))

t.test(
  'with ALLOWED_HOSTS set, every operation but the probes answers a foreign Host with 400 invalid_host',
  async (tt) => {
    const { api } = await build(tt, { allowedHosts: ['api.example.com'] })
    for (const op of operations.values()) {
      if (op.probe) continue // answered whatever the Host: test/routes/health.test.ts
      const res = await api.request(op.method, urlOf(op.path), op.bodyTypes.length ? {} : undefined, {
        headers: { host: 'evil.example.net' },
      })
      tt.equal(res.status, 400, `${op.operationId}: 400`)
      // The reset form answers its errors as the page, for a person in a browser; the API in its error shape.
      if (op.responseTypes['400'] === 'text/html')
        tt.match(res.text, /The Host header is not allowed\./, `${op.operationId}: the page says why`)
      else tt.equal(res.body?.code, 'invalid_host', `${op.operationId}: invalid_host`)
    }
  },
)
