import { randomInt } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, PASSWORD, signUp, uniqueEmail, userWithDevice } from '../helper.js'
import { checkAgainstSpec } from '../spec-check.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
// Without Redis, skipped outside CI saying how to get it, and run (to fail) under CI: test/requirements.ts.
const redisTest = await (await import('../requirements.js')).requires('redis')

/** A 429 as the contract promises it: code `throttled` and a whole number of seconds in Retry-After. */
function assertThrottled(
  tt: Test,
  res: { status: number; body: any; headers: Record<string, unknown> },
  maxWait: number,
) {
  tt.equal(res.status, 429)
  tt.equal(res.body?.code, 'throttled')
  const retryAfter = String(res.headers['retry-after'])
  tt.match(retryAfter, /^[0-9]+$/, `Retry-After is a number of seconds (${retryAfter})`)
  tt.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= maxWait, `Retry-After ${retryAfter} within the window`)
}

/** app.inject from a chosen client IP (the `api` helper cannot set one), checked against the spec like `api`. */
async function fromIp(tt: Test, app: FastifyInstance, ip: string, method: 'GET' | 'POST', url: string, body?: unknown) {
  const res = await app.inject({
    method,
    url,
    remoteAddress: ip,
    ...(body !== undefined && { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  const parsed = res.body ? JSON.parse(res.body) : undefined
  for (const p of checkAgainstSpec(method, url, {
    status: res.statusCode,
    contentType: String(res.headers['content-type'] ?? ''),
    body: parsed,
    headers: res.headers,
  }))
    tt.fail(`contract: ${p}`)
  return { status: res.statusCode, body: parsed, headers: res.headers }
}

// Each run gets its own address so counters left in Redis by earlier runs never interfere.
const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`

t.test(
  'anon: past THROTTLE_ANON the same IP gets 429 throttled with Retry-After, and nothing is created',
  async (tt) => {
    const { app, api } = await build(tt, { throttleAnon: '2/hour' })
    const email = uniqueEmail()
    tt.equal((await api.post('/auth/users/', { email, password: PASSWORD })).status, 201)
    tt.equal(
      (await api.post('/auth/login/', { email, password: PASSWORD })).status,
      200,
      'login counts against the same budget',
    )
    const third = await api.post('/auth/users/', { email: uniqueEmail('late'), password: PASSWORD })
    assertThrottled(tt, third, 3600)
    const users = await app.db.knex('users')
    tt.equal(users.length, 1, 'the throttled sign-up created no user')
    assertThrottled(tt, await api.post('/auth/login/', { email, password: PASSWORD }), 3600)
  },
)

t.test('anon: the limit is per IP', async (tt) => {
  const { app } = await build(tt, { throttleAnon: '2/hour' })
  const [a, b] = [randomIp(), randomIp().replace(/^10\./, '172.')]
  for (let i = 0; i < 2; i++)
    tt.equal(
      (await fromIp(tt, app, a, 'POST', '/auth/login/', { email: uniqueEmail(), password: PASSWORD })).status,
      400,
    )
  assertThrottled(
    tt,
    await fromIp(tt, app, a, 'POST', '/auth/login/', { email: uniqueEmail(), password: PASSWORD }),
    3600,
  )
  const other = await fromIp(tt, app, b, 'POST', '/auth/users/', { email: uniqueEmail(), password: PASSWORD })
  tt.equal(other.status, 201, 'another IP still signs up')
})

t.test('anon: the throttle applies before the body is looked at', async (tt) => {
  const { api } = await build(tt, { throttleAnon: '1/hour' })
  tt.equal((await api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD })).status, 400)
  assertThrottled(tt, await api.post('/auth/login/', { nonsense: true }), 3600)
})

t.test(
  "user: THROTTLE_USER counts per user, across that user's sessions, and another user is unaffected",
  async (tt) => {
    const { api } = await build(tt, { throttleUser: '3/hour' })
    const alice = await signUp(api)
    const second = await api.post('/auth/login/', { email: alice.email, password: PASSWORD })
    const aliceToken2 = second.body.auth_token as string
    const bob = await signUp(api)
    tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200)
    tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200)
    tt.equal((await api.get('/auth/users/me/', { token: aliceToken2 })).status, 200, 'third request, other session')
    assertThrottled(tt, await api.get('/auth/users/me/', { token: aliceToken2 }), 3600)
    assertThrottled(tt, await api.get('/auth/users/me/', { token: alice.token }), 3600)
    const mine = await api.get('/auth/users/me/', { token: bob.token })
    tt.equal(mine.status, 200, 'bob is not throttled')
    tt.equal(mine.body.email, bob.email)
  },
)

t.test('user: a request without a valid token is 401, not counted against anyone', async (tt) => {
  const { api } = await build(tt, { throttleUser: '1/hour' })
  const alice = await signUp(api)
  for (let i = 0; i < 3; i++) tt.equal((await api.get('/auth/users/me/', { token: 'garbage' })).status, 401)
  tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200)
})

t.test('user: a throttled write changes nothing', async (tt) => {
  const { app, api } = await build(tt, { throttleUser: '1/hour' })
  const alice = await signUp(api)
  tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200)
  assertThrottled(tt, await api.post('/auth/logout/', undefined, { token: alice.token }), 3600)
  tt.equal((await app.db.knex('sessions').where({ user_id: alice.id })).length, 1, 'the session was not revoked')
})

t.test(
  'prekeybundle: past THROTTLE_PREKEYBUNDLE bundles are 429, other calls still work, no prekey is spent',
  async (tt) => {
    const { app, api } = await build(tt, { throttlePrekeybundle: '2/day' })
    const alice = await userWithDevice(api)
    const bob = await userWithDevice(api, { preKeyCount: 5 })
    const carol = await userWithDevice(api)
    const url = `/prekeybundle/${bob.email}/${alice.registrationId}/`
    tt.equal((await api.get(url, { token: alice.token })).status, 200)
    tt.equal((await api.get(url, { token: alice.token })).status, 200)
    const third = await api.get(url, { token: alice.token })
    assertThrottled(tt, third, 86400)
    const bobDevice = await app.db.knex('devices').where({ user_id: bob.id }).first()
    tt.equal(
      (await app.db.knex('prekeys').where({ device_id: bobDevice.id })).length,
      3,
      'the throttled request took no prekey',
    )
    tt.equal(
      (await api.get(`/messages/${alice.registrationId}/`, { token: alice.token })).status,
      200,
      'alice can still fetch messages',
    )
    tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200)
    const carols = await api.get(`/prekeybundle/${bob.email}/${carol.registrationId}/`, { token: carol.token })
    tt.equal(carols.status, 200, 'the bundle limit is per user')
  },
)

t.test("'off' disables a throttle", async (tt) => {
  const { api } = await build(tt, { throttleAnon: 'off', throttleUser: 'off', throttlePrekeybundle: 'off' })
  for (let i = 0; i < 8; i++)
    tt.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 201)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  for (let i = 0; i < 8; i++)
    tt.equal((await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })).status, 200)
})

t.test('only the throttled scope is limited: anon off, user on', async (tt) => {
  const { api } = await build(tt, { throttleAnon: 'off', throttleUser: '1/hour' })
  const alice = await signUp(api)
  for (let i = 0; i < 4; i++)
    tt.equal((await api.post('/auth/login/', { email: alice.email, password: PASSWORD })).status, 200)
  tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 200)
  assertThrottled(tt, await api.get('/auth/users/me/', { token: alice.token }), 3600)
})

t.test('with REDIS_URL, instances share the counters', redisTest, async (tt) => {
  const overrides = { redisUrl: REDIS_URL, throttleAnon: '2/hour' }
  const one = await build(tt, overrides)
  const two = await build(tt, overrides)
  const ip = randomIp()
  const login = () => ({ email: uniqueEmail(), password: PASSWORD })
  tt.equal(
    (await fromIp(tt, one.app, ip, 'POST', '/auth/login/', login())).status,
    400,
    'first request on instance one',
  )
  tt.equal(
    (await fromIp(tt, two.app, ip, 'POST', '/auth/login/', login())).status,
    400,
    'second request on instance two',
  )
  assertThrottled(tt, await fromIp(tt, one.app, ip, 'POST', '/auth/login/', login()), 3600)
  assertThrottled(tt, await fromIp(tt, two.app, ip, 'POST', '/auth/login/', login()), 3600)
  tt.equal(
    (await fromIp(tt, two.app, randomIp(), 'POST', '/auth/login/', login())).status,
    400,
    'another IP is unaffected',
  )
})

t.test('with REDIS_URL, per-user counters are shared too', redisTest, async (tt) => {
  const overrides = { redisUrl: REDIS_URL, throttleUser: '2/hour' }
  const one = await build(tt, overrides)
  const two = await build(tt, { ...overrides, databaseUrl: one.config.databaseUrl })
  // Redis outlives the per-test database: give the user an id no earlier run used, before any
  // session references it, so that the shared per-user counter starts from zero.
  const email = uniqueEmail('alice')
  const created = await one.api.post('/auth/users/', { email, password: PASSWORD })
  const id = randomInt(1_000_000, 2_000_000_000)
  await one.app.db.knex('users').where({ id: created.body.id }).update({ id })
  const token = (await one.api.post('/auth/login/', { email, password: PASSWORD })).body.auth_token as string
  const me = await one.api.get('/auth/users/me/', { token })
  tt.equal(me.status, 200)
  tt.equal(me.body.id, id)
  tt.equal((await two.api.get('/auth/users/me/', { token })).status, 200, 'second request, on instance two')
  assertThrottled(tt, await one.api.get('/auth/users/me/', { token }), 3600)
  assertThrottled(tt, await two.api.get('/auth/users/me/', { token }), 3600)
})

t.test('with REDIS_URL unreachable, requests are still served', async (tt) => {
  const { api } = await build(tt, { redisUrl: 'redis://127.0.0.1:1', throttleAnon: '1/hour' })
  for (let i = 0; i < 3; i++)
    tt.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 201)
})

t.test('anon: X-Forwarded-For does not dodge the limit unless TRUST_PROXY is set', async (tt) => {
  const direct = await build(tt, { throttleAnon: '1/hour' })
  const spoof = (n: number) => ({ headers: { 'x-forwarded-for': `203.0.113.${n}` } })
  tt.equal((await direct.api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD }, spoof(1))).status, 400)
  assertThrottled(
    tt,
    await direct.api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD }, spoof(2)),
    3600,
  )

  const proxied = await build(tt, { throttleAnon: '1/hour', trustProxy: true })
  tt.equal((await proxied.api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD }, spoof(1))).status, 400)
  tt.equal(
    (await proxied.api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD }, spoof(2))).status,
    400,
    'behind a trusted proxy the client address counts',
  )
  assertThrottled(
    tt,
    await proxied.api.post('/auth/login/', { email: uniqueEmail(), password: PASSWORD }, spoof(1)),
    3600,
  )
})
