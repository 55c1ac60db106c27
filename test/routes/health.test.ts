import knex from 'knex'
import t from 'tap'
import { SMTPServer } from 'smtp-server'
import { build, buildWithMail, database, freePort, PASSWORD, uniqueEmail } from '../helper.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
// Without Redis, skipped outside CI saying how to get it, and run (to fail) under CI: test/requirements.ts.
const redisTest = await (await import('../requirements.js')).requires('redis')

t.test('live: 200 without authentication, ignoring a bad token, with or without the trailing slash', async (tt) => {
  const { api } = await build(tt)
  for (const path of ['/health/live', '/health/live/']) {
    const res = await api.get(path)
    tt.equal(res.status, 200, path)
    tt.same(res.body, { status: 'ok' })
  }
  const withBadToken = await api.get('/health/live', { token: 'not-a-token' })
  tt.equal(withBadToken.status, 200, 'a bad token is not even looked at')
})

t.test('ready: 200 with only the database checked when neither Redis nor SMTP is configured', async (tt) => {
  const { api } = await build(tt)
  const res = await api.get('/health/ready')
  tt.equal(res.status, 200)
  tt.same(res.body, { status: 'ok', checks: { database: 'ok' } })
})

t.test('ready: 200 with database, Redis and SMTP all reachable', redisTest, async (tt) => {
  const { api } = await buildWithMail(tt, { redisUrl: REDIS_URL })
  const res = await api.get('/health/ready')
  tt.equal(res.status, 200)
  tt.same(res.body, { status: 'ok', checks: { database: 'ok', redis: 'ok', smtp: 'ok' } })
})

t.test('ready: 503 naming the database when it is gone; live stays 200', async (tt) => {
  const { app, api, config } = await build(tt)
  if (database === 'postgres') {
    // A real outage: the database disappears under the running app, its connections cut.
    const admin = knex({
      client: 'pg',
      connection: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      pool: { min: 0, max: 1 },
    })
    tt.teardown(() => admin.destroy())
    await admin.raw('DROP DATABASE ?? WITH (FORCE)', [new URL(config.databaseUrl).pathname.slice(1)])
  } else {
    // SQLite keeps an unlinked file readable; closing the pool is what an unusable database looks like.
    await app.db.knex.destroy()
  }
  const res = await api.get('/health/ready')
  tt.equal(res.status, 503)
  tt.same(res.body, { status: 'unavailable', checks: { database: 'down' } })
  tt.equal((await api.get('/health/live')).status, 200, 'the process is still alive: no restart wanted')
})

t.test('ready: 503 naming Redis when nothing listens at REDIS_URL', async (tt) => {
  const { api } = await build(tt, { redisUrl: `redis://127.0.0.1:${await freePort()}` })
  const res = await api.get('/health/ready')
  tt.equal(res.status, 503)
  tt.same(res.body, { status: 'unavailable', checks: { database: 'ok', redis: 'down' } })
})

t.test('ready: 503 naming SMTP when nothing listens at EMAIL_HOST:EMAIL_PORT', async (tt) => {
  const { api } = await build(tt, { emailHost: '127.0.0.1', emailPort: await freePort() })
  const res = await api.get('/health/ready')
  tt.equal(res.status, 503)
  tt.same(res.body, { status: 'unavailable', checks: { database: 'ok', smtp: 'down' } })
})

t.test('ready: the SMTP check is cached, so a burst of probes opens one SMTP session', async (tt) => {
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
  tt.teardown(() => new Promise<void>((ok) => smtp.close(() => ok())))
  const { api } = await build(tt, {
    emailHost: '127.0.0.1',
    emailPort: (smtp.server.address() as { port: number }).port,
  })
  const burst = await Promise.all(Array.from({ length: 5 }, () => api.get('/health/ready')))
  const more = [await api.get('/health/ready'), await api.get('/health/ready')]
  for (const res of [...burst, ...more]) tt.same(res.body, { status: 'ok', checks: { database: 'ok', smtp: 'ok' } })
  tt.equal(sessions, 1, 'seven probes, one SMTP session')
})

t.test('probes are never throttled, even under a strict THROTTLE_ANON', async (tt) => {
  const { api } = await build(tt, { throttleAnon: '1/hour' })
  for (let i = 0; i < 10; i++) {
    tt.equal((await api.get('/health/live')).status, 200, `live #${i + 1}`)
    tt.equal((await api.get('/health/ready')).status, 200, `ready #${i + 1}`)
  }
  // The limit is in force: the first anonymous API call uses it up, the second is refused.
  tt.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 201)
  tt.equal((await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })).status, 429)
})

t.test('probes answer whatever the Host header, while the API keeps refusing other hosts', async (tt) => {
  const { api } = await build(tt, { allowedHosts: ['api.example.com'] })
  const byIp = { headers: { host: '10.1.2.3:8000' } }
  tt.equal((await api.get('/health/live', byIp)).status, 200, 'live by IP')
  tt.equal((await api.get('/health/ready', byIp)).status, 200, 'ready by IP')
  const api400 = await api.get('/auth/users/me/', byIp)
  tt.equal(api400.status, 400)
  tt.equal(api400.body.code, 'invalid_host')
})
