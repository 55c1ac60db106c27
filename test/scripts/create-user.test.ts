// `npm run create-user` as an operator runs it, against this run's database engine: the account
// it makes logs in through the API, and every refusal exits non-zero with one line.
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { build, PASSWORD, uniqueEmail } from '../helper.js'
import { lines, runScript } from './run-script.js'

const createUser = (databaseUrl: string, args: string[], env: Record<string, string> = {}, stdin = '') =>
  runScript('create-user.ts', args, { DATABASE_URL: databaseUrl, BCRYPT_COST: '4', ...env }, stdin)

t.test('creates an account from NEW_USER_PASSWORD that logs in through the API', async (tt) => {
  const { app, api, config } = await build(tt)
  const email = uniqueEmail('admin')
  const res = await createUser(config.databaseUrl, ['--email', email.toUpperCase()], { NEW_USER_PASSWORD: PASSWORD })
  tt.equal(res.code, 0, `exit 0 (${res.stderr})`)
  const [row] = await app.db.knex('users').where({ email }).select('id', 'password_hash')
  tt.ok(row, 'stored under the lower-cased email')
  tt.same(lines(res.stdout), [`created user ${row.id} <${email}>`])
  tt.match(row.password_hash, /^\$2[aby]\$04\$/, 'hashed with bcrypt at BCRYPT_COST')
  const login = await api.post('/auth/login/', { email, password: PASSWORD })
  tt.equal(login.status, 200, 'the server accepts the password')
  tt.notMatch(res.stdout + res.stderr, PASSWORD, 'the password is not echoed')
})

t.test('reads the password from standard input when NEW_USER_PASSWORD is unset', async (tt) => {
  const { api, config } = await build(tt)
  const email = uniqueEmail('piped')
  const password = `piped ${randomBytes(8).toString('hex')}`
  const res = await createUser(config.databaseUrl, [`--email=${email}`], {}, `${password}\n`)
  tt.equal(res.code, 0, `exit 0 (${res.stderr})`)
  tt.equal((await api.post('/auth/login/', { email, password })).status, 200, 'logs in with the piped password')
  tt.equal(
    (await api.post('/auth/login/', { email, password: `${password}\n` })).status,
    400,
    'the line break is not part of it',
  )
})

t.test('refuses an email that is taken, in any case, and changes nothing', async (tt) => {
  const { app, api, config } = await build(tt)
  const email = uniqueEmail('taken')
  tt.equal((await api.post('/auth/users/', { email, password: PASSWORD })).status, 201)
  const res = await createUser(config.databaseUrl, ['--email', email.toUpperCase()], {
    NEW_USER_PASSWORD: 'another-long-passphrase-42',
  })
  tt.equal(res.code, 1)
  tt.same(lines(res.stderr), [`create-user failed: a user with the email ${email} already exists`])
  tt.equal(res.stdout, '')
  tt.equal((await app.db.knex('users').where({ email })).length, 1, 'still one account')
  tt.equal((await api.post('/auth/login/', { email, password: PASSWORD })).status, 200, 'its password is unchanged')
})

t.test('applies the sign-up password policy', async (tt) => {
  const { app, config } = await build(tt)
  const email = uniqueEmail('weak')
  const cases: [string, RegExp][] = [
    ['password', /too common/],
    [email, /too similar to the email/],
    ['', /password must NOT have fewer than 1 characters/],
  ]
  for (const [password, reason] of cases) {
    const res = await createUser(config.databaseUrl, ['--email', email], { NEW_USER_PASSWORD: password })
    tt.equal(res.code, 1, `refused: ${reason}`)
    const errLines = lines(res.stderr)
    tt.equal(errLines.length, 1, `one line: ${res.stderr}`)
    tt.match(errLines[0], /^create-user failed: password/)
    tt.match(errLines[0], reason)
  }
  tt.same(await app.db.knex('users').where({ email }), [], 'no account was created')
})

t.test('usage errors exit non-zero before touching the database', async (tt) => {
  const dir = join(tmpdir(), `signal-server-create-user-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const url = join(dir, 'db.sqlite')
  const cases: [string[], RegExp][] = [
    [[], /usage: create-user --email <address>/],
    [['--email', 'alice@example.com', PASSWORD], /usage/],
    [['--email', 'not-an-address'], /--email: not a valid email address/],
  ]
  for (const [args, message] of cases) {
    const res = await createUser(url, args, { NEW_USER_PASSWORD: PASSWORD })
    tt.equal(res.code, 1, `exit 1 for ${JSON.stringify(args)}`)
    tt.equal(lines(res.stderr).length, 1, `one line: ${res.stderr}`)
    tt.match(res.stderr, message)
  }
  tt.notOk(existsSync(dirname(url)), 'no SQLite file or directory was created')
})

t.test('an unreachable database exits non-zero with one line', async (tt) => {
  const res = await createUser('postgres://nobody:hunter2-secret@127.0.0.1:1/x', ['--email', uniqueEmail()], {
    NEW_USER_PASSWORD: PASSWORD,
  })
  tt.equal(res.code, 1)
  const errLines = lines(res.stderr)
  tt.equal(errLines.length, 1, `one line: ${res.stderr}`)
  tt.match(errLines[0], /^create-user failed: \S/)
  tt.notMatch(res.stderr + res.stdout, /hunter2-secret/, 'the database password is not echoed')
  tt.notMatch(res.stderr + res.stdout, PASSWORD, 'nor the new password')
})
