// `npm run purge-expired` also deletes the accounts never activated (EMAIL_VERIFICATION=on) that are
// older than UNVERIFIED_ACCOUNT_TTL, next to a running app on this run's database engine.
import t from 'tap'
import { build, PASSWORD, uniqueEmail } from '../helper.js'
import { lines, runScript } from './run-script.js'

const HOUR = 3600 * 1000

t.test('deletes the accounts never activated within UNVERIFIED_ACCOUNT_TTL, and only those', async (tt) => {
  const { app, api, config } = await build(tt, { messagePurgeInterval: 0, emailVerification: 'on' })
  const signUp = async () => {
    const res = await api.post('/auth/users/', { email: uniqueEmail(), password: PASSWORD })
    tt.equal(res.status, 201)
    return res.body.id as number
  }
  const [old, young] = [await signUp(), await signUp()]
  const active = (await app.db.users.create(uniqueEmail(), 'x')).id
  await app.db
    .knex('users')
    .whereIn('id', [old, active])
    .update({ created_at: Date.now() - 2 * HOUR })

  const env = { DATABASE_URL: config.databaseUrl, UNVERIFIED_ACCOUNT_TTL: '3600' }
  const res = await runScript('purge-expired.ts', [], env)
  tt.equal(res.code, 0, `exit 0 (${res.stderr})`)
  tt.match(lines(res.stdout), [
    /^purged 0 expired messages .* and 1 account never activated \(created at or before \d{4}-/,
  ])
  tt.equal(await app.db.users.findById(old), undefined, 'the old inactive account is gone')
  tt.ok(await app.db.users.findById(young), 'the young one stays')
  tt.ok(await app.db.users.findById(active), 'an active account stays, whatever its age')

  const again = await runScript('purge-expired.ts', [], env)
  tt.match(lines(again.stdout), [/ and 0 accounts never activated /], 'a second run finds nothing')
})
