import knex from 'knex'
import t from 'tap'
import { SMTPServer } from 'smtp-server'
import { build, buildWithMail, database, freePort, PASSWORD, uniqueEmail } from '../helper.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
// scripts/run-tests.ts sets TEST_REDIS=skip only outside CI, on a machine without Redis, and says so.
const redisTest = { skip: process.env.TEST_REDIS === 'skip' ? 'Redis is not reachable on this machine' : false }

t.test('live: 200 without authentication, ignoring a bad token, with or without the trailing slash', async (t) => {
  const { api } = await build(t)
  for (const path of ['/health/live', '/health/live/']) {
    const res = await api.get(path)
    t.equal(res.status, 200, path)
    t.same(res.body, { status: 'ok' })
  }
  const withBadToken = await api.get('/health/live', { token: 'not-a-token' })
  t.equal(withBadToken.status, 200, 'a bad token is not even looked at')
})

t.test('ready: 200 with only the database checked when neither Redis nor SMTP is configured', async (t) => {
  const { api } = await build(t)
  const res = await api.get('/health/ready')
  t.equal(res.status, 200)
  t.same(res.body, { status: 'ok', checks: { database: 'ok' } })
})

t.test('ready: 200 with database, Redis and SMTP all reachable', redisTest, async (t) => {
  const { api } = await buildWithMail(t, { redisUrl: REDIS_URL })
  const res = await api.get('/health/ready')
  t.equal(res.status, 200)
  t.same(res.body, { status: 'ok', checks: { database: 'ok', redis: 'ok', smtp: 'ok' } })
})

t.test('ready: 503 naming the database when it is gone; live stays 200', async (t) => {
  const { app, api, config } = await build(t)
  if (database === 'postgres') {
    // A real outage: the database disappears under the running app, its connections cut.
    const admin = knex({
      client: 'pg',
      connection: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      pool: { min: 0, max: 1 },
    })
    t.teardown(() => admin.destroy())
    await admin.raw('DROP DATABASE ?? WITH (FORCE)', [new URL(config.databaseUrl).pathname.slice(1)])
  } else {
    // SQLite keeps an unlinked file readable; closing the pool is what an unusable database looks like.
    await app.db.knex.destroy()
  }
  const res = await api.get('/health/ready')
  t.equal(res.status, 503)
  t.same(res.body, { status: 'unavailable', checks: { database: 'down' } })
  t.equal((await api.get('/health/live')).status, 200, 'the process is still alive: no restart wanted')
})

t.test('ready: 503 naming Redis when nothing listens at REDIS_URL', async (t) => {
  const { api } = await build(t, { redisUrl: `redis://127.0.0.1:${await freePort()}` })
  const res = await api.get('/health/ready')
  t.equal(res.status, 503)
  t.same(res.body, { status: 'unavailable', checks: { database: 'ok', redis: 'down' } })
})

t.test('ready: 503 naming SMTP when nothing listens at EMAIL_HOST:EMAIL_PORT', async (t) => {
  const { api } = await build(t, { emailHost: '127.0.0.1', emailPort: await freePort() })
  const res = await api.get('/health/ready')
  t.equal(res.status, 503)
  t.same(res.body, { status: 'unavailable', checks: { database: 'ok', smtp: 'down' } })
})

t.test('ready: the SMTP check is cached, so a burst of probes opens one SMTP session', async (t) => {
  let sessions = 0
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      sessions++
      callback()
    },
  })
  await new Promise<void>((ok) => smtp.listen(0, '127.0.0.1', ok))
  t.teardown(() => new Promise<void>((ok) => smtp.close(() => ok())))
  const { api } = await build(t, {
    emailHost: '127.0.0.1',
    emailPort: (smtp.server.address() as { port: number }).port,
  })
  const burst = await Promise.all(Array.from({ length: 5 }, () => api.get('/health/ready')))
  const more = [await api.get('/health/ready'), await api.get('/health/ready')]
  for (const res of [...burst, ...more]) t.same(res.body, { status: 'ok', checks: { database: 'ok', smtp: 'ok' } })
  t.equal(sessions, 1, 'seven probes, one SMTP session')
})

t.test('probes are never throttled, even under a strict THROTTLE_ANON', async (t) => {
  const { api } = await build(t, { throttleAnon: '1/hour' })
  for (let i = 0; i < 10; i++) {
    t.equal((await api.get('/health/live')).status, 200, `live #${i + 1}`)
    t.equal((await api.get('/health/ready')).status, 200, `ready #${i + 1}`)
  }
  // The limit is in force: the first anonymous API call uses it up, the second is refused.
  t.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 201)
  t.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 429)
})

t.test('probes answer whatever the Host header, while the API keeps refusing other hosts', async (t) => {
  const { api } = await build(t, { allowedHosts: ['api.example.com'] })
  const byIp = { headers: { host: '10.1.2.3:8000' } }
  t.equal((await api.get('/health/live', byIp)).status, 200, 'live by IP')
  t.equal((await api.get('/health/ready', byIp)).status, 200, 'ready by IP')
  const api400 = await api.get('/auth/users/me/', byIp)
  t.equal(api400.status, 400)
  t.equal(api400.body.code, 'invalid_host')
})
