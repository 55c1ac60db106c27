import t from 'tap'
import { decide, HOW_TO_GET, inCI, postgresReachable, redisReachable, requires, SKIP_MARK } from './requirements.js'

// A test that needs a missing tool is skipped outside CI, saying what is missing and how to get it,
// and never under CI, where it has to run and fail instead.

t.test('CI is any non-empty CI variable', async (tt) => {
  for (const value of ['true', '1', 'yes', 'false']) tt.ok(inCI({ CI: value }), `CI=${value}`)
  tt.notOk(inCI({ CI: '' }), 'CI empty')
  tt.notOk(inCI({}), 'CI unset')
})

t.test('outside CI a missing tool skips, naming each and how to get it; under CI nothing skips', async (tt) => {
  tt.same(decide([], {}), { skip: false }, 'nothing missing')
  const both = decide(['chromium', 'docker-compose'], {})
  tt.equal(both.skip, `${SKIP_MARK}${HOW_TO_GET.chromium}; ${SKIP_MARK}${HOW_TO_GET['docker-compose']}`)
  tt.match(both.skip, /apt-get install chromium/)
  tt.match(both.skip, /apt-get install docker-compose/)
  for (const CI of ['true', '1', 'yes'])
    tt.same(decide(['redis', 'postgres'], { CI, TEST_REDIS: 'skip' }), { skip: false }, `CI=${CI}: runs, to fail`)
})

t.test('the probes tell a service that answers from one that does not', async (tt) => {
  tt.equal(await redisReachable('redis://127.0.0.1:1'), false, 'no Redis on port 1')
  tt.equal(await postgresReachable('postgres://postgres@127.0.0.1:1/postgres'), false, 'no PostgreSQL on port 1')
  // This machine's own services, as the suite finds them: whatever they are, a skip says so only outside CI.
  const redis = await requires('redis')
  tt.equal(redis.skip !== false, !(await redisReachable()) && !inCI())
})
