// `npm run purge-expired` also does the server's housekeeping: expired sessions, the marks of used
// 2FA tokens, spent lockout counters and expired emailed codes go; what still counts stays.
import t from 'tap'
import { build, signUp } from '../helper.js'
import { lines, runScript } from './run-script.js'

const MINUTE = 60_000

t.test('deletes what is kept only for a while and has had its time, and says how many', async (tt) => {
  const { app, api, config } = await build(tt, { messagePurgeInterval: 0 })
  const knex = app.db.knex
  const now = Date.now()
  const alice = await signUp(api)
  const bob = await signUp(api)
  await knex('sessions')
    .where({ user_id: alice.id })
    .update({ expires_at: now - MINUTE })
  await knex('used_tokens').insert([
    { id: 'spent-token', expires_at: now - MINUTE },
    { id: 'live-token', expires_at: now + 10 * MINUTE },
  ])
  await knex('auth_failures').insert([
    { scope: 'login', user_id: alice.id, failures: 3, window_started_at: now - 3600_000, locked_until: null },
    { scope: 'login', user_id: bob.id, failures: 1, window_started_at: now - MINUTE, locked_until: null },
  ])

  const res = await runScript('purge-expired.ts', [], { DATABASE_URL: config.databaseUrl, LOCKOUT_DURATION: '900' })
  tt.equal(res.code, 0, `exit 0 (${res.stderr})`)
  tt.match(lines(res.stdout), [
    /; also 1 expired session, 1 used 2FA token, 1 spent lockout counter and 0 expired emailed codes$/,
  ])
  tt.same(
    (await knex('sessions').select('user_id')).map((r) => r.user_id),
    [bob.id],
  )
  tt.same(
    (await knex('used_tokens').select('id')).map((r) => r.id),
    ['live-token'],
  )
  tt.same(
    (await knex('auth_failures').select('user_id')).map((r) => r.user_id),
    [bob.id],
  )
  tt.equal((await api.get('/auth/users/me/', { token: bob.token })).status, 200, "Bob's session still works")

  const again = await runScript('purge-expired.ts', [], { DATABASE_URL: config.databaseUrl })
  tt.match(lines(again.stdout), [/; also 0 expired sessions, 0 used 2FA tokens, 0 spent lockout counters and 0/])
})
