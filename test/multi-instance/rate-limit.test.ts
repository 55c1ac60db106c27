import t from 'tap'
import { pair, call, account, type Instance, needsCluster } from './cluster.js'

// Real server processes (server.ts) on different ports sharing one PostgreSQL database and one
// Redis, whatever TEST_DB says: what README's "Running several instances" promises, end to end.

t.test('the shared rate limit trips at the configured count across both instances', needsCluster, async (tt) => {
  const [a, b] = await pair(tt, { THROTTLE_USER: '3/hour' })
  const alice = await account(tt, a, 'alice') // creating the device used one request of alice's three
  const me = (i: Instance) => call(tt, i, 'GET', '/auth/users/me/', undefined, alice.token)
  tt.equal((await me(b)).status, 200, 'second request, on B')
  tt.equal((await me(a)).status, 200, 'third request, on A')
  const fourth = await me(b)
  tt.same([fourth.status, fourth.body.code], [429, 'throttled'], 'fourth request, on B, is over the shared limit')
  tt.equal((await me(a)).status, 429, 'and on A')
  const carol = await account(tt, b, 'carol')
  tt.equal(
    (await call(tt, a, 'GET', '/auth/users/me/', undefined, carol.token)).status,
    200,
    'another user is unaffected',
  )
})
