// `npm run purge-expired` as cron runs it, next to a running app on this run's database engine:
// it deletes exactly the messages older than MESSAGE_TTL, and failures exit non-zero with one line.
import t from 'tap'
import { build, ciphertext, userWithDevice } from '../helper.js'
import { lines, runScript } from './run-script.js'

const HOUR = 3600 * 1000
const purge = (databaseUrl: string, env: Record<string, string> = {}, args: string[] = []) =>
  runScript('purge-expired.ts', args, { DATABASE_URL: databaseUrl, ...env })

t.test('deletes the messages older than MESSAGE_TTL and only those, while the server runs', async (tt) => {
  // The app's own purge timer is off: the command is what is tested.
  const { app, api, config } = await build(tt, { messagePurgeInterval: 0 })
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const ids: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await api.post(
      `/messages/${alice.registrationId}/`,
      { recipient: bob.email, message: ciphertext(bob.registrationId) },
      { token: alice.token },
    )
    tt.equal(res.status, 201)
    ids.push(res.body.id)
  }
  // Three messages sent two hours ago, two just now; MESSAGE_TTL is one hour.
  const old = ids.slice(0, 3)
  await app.db
    .knex('messages')
    .whereIn('id', old)
    .update({ created_at: Date.now() - 2 * HOUR })

  const res = await purge(config.databaseUrl, { MESSAGE_TTL: '3600' })
  tt.equal(res.code, 0, `exit 0 (${res.stderr})`)
  tt.match(lines(res.stdout), [/^purged 3 expired messages \(sent at or before \d{4}-\d\d-\d\dT/])
  const left = (await app.db.knex('messages').select('id').orderBy('id')).map((r) => Number(r.id))
  tt.same(left, ids.slice(3), 'the fresh messages are still queued')
  const fetched = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  tt.same(
    fetched.body.map((m: { id: number }) => m.id),
    ids.slice(3),
    'and still delivered',
  )

  const again = await purge(config.databaseUrl, { MESSAGE_TTL: '3600' })
  tt.equal(again.code, 0)
  tt.match(lines(again.stdout), [/^purged 0 expired messages/], 'a second run finds nothing')
})

t.test('failures exit non-zero with one line', async (tt) => {
  const { config } = await build(tt)
  const cases: [string, Record<string, string>, string[], RegExp][] = [
    ['an argument', { DATABASE_URL: config.databaseUrl }, ['--all'], /^purge-expired failed: takes no arguments/],
    [
      'a bad MESSAGE_TTL',
      { DATABASE_URL: config.databaseUrl, MESSAGE_TTL: 'a week' },
      [],
      /^purge-expired failed: MESSAGE_TTL: /,
    ],
    [
      'an unreachable database',
      { DATABASE_URL: 'postgres://nobody:hunter2-secret@127.0.0.1:1/x' },
      [],
      /^purge-expired failed: \S/,
    ],
  ]
  for (const [what, env, args, message] of cases) {
    const res = await purge(env.DATABASE_URL, env, args)
    tt.equal(res.code, 1, `${what}: exit 1`)
    const errLines = lines(res.stderr)
    tt.equal(errLines.length, 1, `${what}: one line (${res.stderr})`)
    tt.match(errLines[0], message)
    tt.equal(res.stdout, '')
    tt.notMatch(res.stderr, /hunter2-secret/, 'no database password echoed')
  }
})
