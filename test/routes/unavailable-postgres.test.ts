import t from 'tap'
import { build, freshPostgresUrl } from '../helper.js'
import { diff, snapshot } from '../security/db-snapshot.js'
import { askAll, summary, world } from './unavailable-requests.js'
import { TcpProxy } from '../tcp-proxy.js'

// Every operation, asked while PostgreSQL cannot be reached, answers 503 service_unavailable with
// Retry-After (the checked client holds each answer to openapi.yaml, Retry-After included), never a
// 401 or another 4xx, and changes nothing. The database sits behind a TCP proxy that the test cuts:
// every connection dropped, new ones refused. (Run in the PostgreSQL pass only.)

t.test('PostgreSQL cut off: every operation answers 503 and changes nothing', async (tt) => {
  const real = new URL(await freshPostgresUrl(tt))
  const proxy = await TcpProxy.start({ host: real.hostname, port: Number(real.port || 5432) })
  tt.teardown(() => proxy.stop())
  const proxied = new URL(real)
  proxied.port = String(proxy.port)
  const { app, api } = await build(tt, { databaseUrl: proxied.toString(), databaseTimeout: 1 })
  const verifying = await build(tt, { databaseUrl: proxied.toString(), databaseTimeout: 1, emailVerification: 'on' })
  const { alice, calls } = await world(api, app)
  const before = await snapshot(app)

  await proxy.cut()
  const answers = await askAll(api, alice.token, calls, verifying.api)
  const wrong = summary(answers).filter((line) => !line.includes(' 503 service_unavailable'))
  tt.same(wrong, [], `each of ${answers.size} operations answered 503 service_unavailable`)
  tt.ok(
    [...answers.values()].every((a) => a.headers['retry-after'] !== undefined),
    'each 503 says when to retry',
  )
  const ready = await api.get('/health/ready')
  tt.equal(ready.status, 503, 'readiness says so too')

  await proxy.restore()
  tt.equal((await api.get('/health/ready')).status, 200, 'ready again once the database is back, without a restart')
  tt.same(diff(before, await snapshot(app)), [], 'no refused request changed anything')
  tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200, 'the same token works again')
})
