// The purge job's housekeeping: what is kept only for a while goes once its time is up, and only
// that; and at start-up legacy plain-text TOTP secrets are sealed and unreadable ones reported.
import t, { type Test } from 'tap'
import { buildApp } from '../../app.js'
import { loadConfig, type Config } from '../../lib/config.js'
import { build, signUp } from '../helper.js'

const MINUTE = 60_000

t.test(
  'purge deletes expired sessions, used tokens, spent lockout counters and expired codes, and only those',
  async (tt) => {
    const { app, api } = await build(tt, { messagePurgeInterval: 0, lockoutDuration: 900 })
    const knex = app.db.knex
    const now = Date.now()
    const alice = await signUp(api)
    const bob = await signUp(api)
    // Alice's login token expired a minute ago (it is refused already); Bob's is live.
    await knex('sessions')
      .where({ user_id: alice.id })
      .update({ expires_at: now - MINUTE })
    tt.equal((await api.get('/auth/users/me/', { token: alice.token })).status, 401, 'the expired session is refused')

    await knex('used_tokens').insert([
      { id: 'spent-token', expires_at: now - MINUTE },
      { id: 'live-token', expires_at: now + 10 * MINUTE },
    ])
    const window = 900 * 1000
    await knex('auth_failures').insert([
      // window over, never locked: spent
      { scope: 'login', user_id: alice.id, failures: 3, window_started_at: now - window - MINUTE, locked_until: null },
      // window over, lock over: spent
      { scope: 'mfa', user_id: alice.id, failures: 5, window_started_at: now - 2 * window, locked_until: now - MINUTE },
      // window over but still locked: kept
      {
        scope: 'reset',
        user_id: alice.id,
        failures: 5,
        window_started_at: now - window - MINUTE,
        locked_until: now + MINUTE,
      },
      // window still running: kept
      { scope: 'login', user_id: bob.id, failures: 2, window_started_at: now - MINUTE, locked_until: null },
    ])
    const method = (userId: number, expires: number) => ({
      user_id: userId,
      name: 'email',
      secret: 'v1:unused',
      is_active: true,
      is_primary: true,
      last_totp_step: -1,
      email_code_hash: `hash-${userId}`,
      email_code_expires_at: expires,
    })
    await knex('mfa_methods').insert([method(alice.id, now - MINUTE), method(bob.id, now + 10 * MINUTE)])

    const done = await app.housekeeping.purge()
    tt.same(done, { sessions: 1, usedTokens: 1, lockoutCounters: 2, emailCodes: 1 })

    const sessions = await knex('sessions').select('user_id')
    tt.same(
      sessions.map((s) => s.user_id),
      [bob.id],
      "the expired session went, Bob's stayed",
    )
    tt.equal((await api.get('/auth/users/me/', { token: bob.token })).status, 200, "Bob's token still works")
    tt.same(
      (await knex('used_tokens').select('id')).map((r) => r.id),
      ['live-token'],
    )
    const counters = await knex('auth_failures').select('scope', 'user_id').orderBy(['user_id', 'scope'])
    tt.same(
      counters.map((c) => `${c.scope}:${c.user_id === alice.id ? 'alice' : 'bob'}`),
      ['reset:alice', 'login:bob'],
      'the lock still running and the window still counting stay',
    )
    const codes = await knex('mfa_methods').select('user_id', 'email_code_hash').orderBy('user_id')
    tt.same(
      codes.map((c) => c.email_code_hash),
      [null, `hash-${bob.id}`],
      'the expired emailed code is forgotten, the fresh one kept',
    )

    tt.same(
      await app.housekeeping.purge(),
      { sessions: 0, usedTokens: 0, lockoutCounters: 0, emailCodes: 0 },
      'again: nothing',
    )
  },
)

/** Builds the app on `config`'s database with another config; its log lines (JSON) are collected. */
async function rebuild(tt: Test, config: Config, overrides: Partial<Config>) {
  const lines: Record<string, unknown>[] = []
  const app = await buildApp(loadConfig({}, { ...config, logLevel: 'info', ...overrides }), {
    logStream: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
  tt.teardown(() => app.close())
  return { app, lines }
}

t.test('start-up seals legacy plain-text TOTP secrets, and reports secrets this SECRET_KEY cannot open', async (tt) => {
  const { app, api, config } = await build(tt, { messagePurgeInterval: 0 })
  const user = await signUp(api)
  const other = await signUp(api)
  const plain = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
  await app.db.knex('mfa_methods').insert({
    user_id: user.id,
    name: 'app',
    secret: plain,
    is_active: true,
    is_primary: true,
    last_totp_step: -1,
  })
  await app.close()

  const first = await rebuild(tt, config, {})
  const row = await first.app.db.knex('mfa_methods').where({ user_id: user.id }).first()
  tt.match(row.secret, /^v1:/, 'the plain secret is sealed in the database')
  tt.not(row.secret.includes(plain), true)
  tt.equal((await first.app.db.mfa.find(user.id, 'app'))?.secret, plain, 'and opens to the same secret')
  tt.ok(
    first.lines.some((l) => l.msg === '2FA secrets stored in plain text were sealed' && l.sealed === 1),
    'the sealing is logged with its count',
  )
  tt.notOk(
    first.lines.some((l) => String(l.msg).includes('cannot be opened')),
    'nothing unreadable with the right key',
  )
  // A second method, sealed under this key by the app itself.
  await first.app.db.mfa.upsertPending(other.id, 'app', 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU')
  await first.app.db.knex('mfa_methods').where({ user_id: other.id }).update({ is_active: true })
  await first.app.close()

  const again = await rebuild(tt, config, {})
  tt.notOk(
    again.lines.some((l) => l.msg === '2FA secrets stored in plain text were sealed'),
    'a second start seals nothing more',
  )
  const sealedOnce = await again.app.db.knex('mfa_methods').where({ user_id: user.id }).first()
  tt.equal(sealedOnce.secret, row.secret, 'the sealed value is left as it was')
  await again.app.close()

  const otherKey = await rebuild(tt, config, { secretKey: 'another-secret-key-that-is-long-enough-9876543210' })
  const report = otherKey.lines.find((l) => String(l.msg).includes('cannot be opened with this SECRET_KEY'))
  tt.ok(report, 'another SECRET_KEY: reported at start-up')
  tt.equal(report?.level, 50, 'as an error')
  tt.equal(report?.count, 2)
  tt.same(report?.userIds, [user.id, other.id])
})
