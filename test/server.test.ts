// The real entry point, started as an operator would (`node --import tsx server.ts`), reached over
// real HTTP. app.inject-based tests cannot show that server.ts reads the environment, listens,
// reports start-up failures in one line and shuts down cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import knex from 'knex'
import t, { type Test } from 'tap'
import { database, freePort, freshPostgresUrl, PASSWORD, uniqueEmail } from './helper.js'
import { capturing, recordRequestSecrets, recordSecret, recordSecrets, spawnedLogStream } from './log-capture.js'
import { fetchChecked } from './spec-check.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

type Exit = { code: number | null; signal: NodeJS.Signals | null }
type Server = { child: ChildProcess; exited: Promise<Exit>; output: { stdout: string; stderr: string } }

/**
 * Starts server.ts with only the given variables (plus PATH and HOME); killed at teardown. Under
 * `npm test` all it writes (stdout and stderr) also goes to a log file of its own in the capture directory.
 */
function startServer(tt: Test, name: string, vars: Record<string, string>): Server {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...vars }
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = spawnedLogStream(`server-${name}-${vars.PORT}`)
  const output = { stdout: '', stderr: '' }
  child.stdout!.on('data', (d) => {
    output.stdout += d
    log?.write(d)
  })
  child.stderr!.on('data', (d) => {
    output.stderr += d
    log?.write(d)
  })
  child.once('close', () => log?.end())
  const exited = new Promise<Exit>((ok) => child.once('exit', (code, signal) => ok({ code, signal })))
  tt.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  return { child, exited, output }
}

/** Resolves with the exit, or with null when the process is still running after `ms`. */
function exitWithin(server: Server, ms: number): Promise<Exit | null> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<null>((ok) => (timer = setTimeout(() => ok(null), ms)))
  return Promise.race([server.exited, timeout]).finally(() => clearTimeout(timer))
}

async function waitUntilAnswering(server: Server, base: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null)
      throw new Error(`server exited with ${server.child.exitCode}: ${server.output.stderr}`)
    try {
      // off-contract: a start-up poll; any answer at all means the server listens.
      await fetch(`${base}/`, { signal: AbortSignal.timeout(1000) })
      return
    } catch {
      await new Promise((ok) => setTimeout(ok, 200))
    }
  }
  throw new Error(`server did not answer within 20 s; stderr: ${server.output.stderr}`)
}

/**
 * A real HTTP request; the response is checked against openapi.yaml like the inject client's. The
 * secrets it sends (token, password) and receives (token) are recorded for the log audit.
 */
async function http(tt: Test, base: string, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  recordRequestSecrets(path, headers, 'spawned')
  recordSecrets(body, false, 'spawned')
  const res = await fetchChecked(tt, base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  recordSecrets(res.body, true, 'spawned')
  return { status: res.status, body: res.body }
}

const baseEnv = { HOST: '127.0.0.1', LOG_LEVEL: 'warn', THROTTLE_ANON: 'off' }

/**
 * Sign-up, login, me, unknown path over HTTP, then SIGTERM; returns the email that was signed up.
 * Under `npm test` this server logs at trace (into the capture directory): no assertion reads its
 * output, and it is the one that sees secrets. The start-up failures below keep LOG_LEVEL=warn, as
 * an operator's would be: their assertions count the exact lines on stderr at that level.
 */
async function walkThroughAndStop(tt: Test, databaseUrl: string): Promise<string> {
  const port = await freePort()
  const server = startServer(tt, 'walk-through', {
    ...baseEnv,
    LOG_LEVEL: capturing ? 'trace' : baseEnv.LOG_LEVEL,
    PORT: String(port),
    DATABASE_URL: databaseUrl,
  })
  const base = `http://127.0.0.1:${port}`
  await waitUntilAnswering(server, base)

  const email = uniqueEmail('server')
  const created = await http(tt, base, 'POST', '/auth/users/', { email, password: PASSWORD })
  tt.equal(created.status, 201, 'sign-up')
  tt.equal(created.body.email, email)
  const login = await http(tt, base, 'POST', '/auth/login/', { email, password: PASSWORD })
  tt.equal(login.status, 200, 'login')
  tt.type(login.body.auth_token, 'string')
  const me = await http(tt, base, 'GET', '/auth/users/me/', undefined, login.body.auth_token)
  tt.equal(me.status, 200, 'me with the token')
  tt.same(me.body, { id: created.body.id, email })
  const anonymousMe = await http(tt, base, 'GET', '/auth/users/me/')
  tt.equal(anonymousMe.status, 401)
  tt.equal(anonymousMe.body.code, 'not_authenticated')
  const unknown = await http(tt, base, 'GET', '/no/such/path/')
  tt.equal(unknown.status, 404)
  tt.equal(unknown.body.code, 'not_found')

  server.child.kill('SIGTERM')
  const exit = await exitWithin(server, 10_000)
  tt.same(exit, { code: 0, signal: null }, `SIGTERM exits 0 within 10 s (stderr: ${server.output.stderr})`)
  return email
}

t.test('SQLite: serves over HTTP, creates the database directory, exits 0 on SIGTERM', async (tt) => {
  const dir = join(tmpdir(), `signal-server-srv-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'nested', 'db.sqlite')
  tt.notOk(existsSync(dirname(file)), 'the directory does not exist before start-up')

  const email = await walkThroughAndStop(tt, file)

  tt.ok(existsSync(file), 'the SQLite file was created')
  const db = knex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true })
  tt.teardown(() => db.destroy())
  const users = await db('users').select('email')
  tt.same(users, [{ email }], 'the signed-up user is in the file')
})

if (database === 'postgres') {
  t.test('PostgreSQL: serves over HTTP on a fresh database, exits 0 on SIGTERM', async (tt) => {
    const url = await freshPostgresUrl(tt)
    const email = await walkThroughAndStop(tt, url)
    const db = knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } })
    tt.teardown(() => db.destroy())
    const users = await db('users').select('email')
    tt.same(users, [{ email }], 'the signed-up user is in the database')
  })
}

t.test(
  'development without SECRET_KEY makes a key once, keeps it (0600) beside the database: a restart keeps tokens',
  async (tt) => {
    const dir = join(tmpdir(), `signal-server-srv-${randomBytes(6).toString('hex')}`)
    tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const keyFile = join(dir, 'secret-key')
    const vars = { ...baseEnv, LOG_LEVEL: 'warn', DATABASE_URL: join(dir, 'db.sqlite') }
    const firstPort = await freePort()
    const first = startServer(tt, 'dev-key-1', { ...vars, PORT: String(firstPort) })
    const firstBase = `http://127.0.0.1:${firstPort}`
    await waitUntilAnswering(first, firstBase)
    tt.ok(existsSync(keyFile), 'the key file is made in the data directory')
    const key = readFileSync(keyFile, 'utf8').trim()
    recordSecret(key, 'spawned')
    tt.match(key, /^[0-9a-f]{64}$/, '32 random bytes, hex')
    tt.equal(statSync(keyFile).mode & 0o777, 0o600, 'readable by its owner only')

    const email = uniqueEmail('devkey')
    tt.equal((await http(tt, firstBase, 'POST', '/auth/users/', { email, password: PASSWORD })).status, 201)
    const login = await http(tt, firstBase, 'POST', '/auth/login/', { email, password: PASSWORD })
    tt.equal(login.status, 200)
    first.child.kill('SIGTERM')
    tt.same(await exitWithin(first, 10_000), { code: 0, signal: null }, 'first server stops')
    const firstLog = (first.output.stdout + first.output.stderr).split('\n')
    tt.ok(
      firstLog.some((l) => l.includes(`development key kept in ${keyFile}`)),
      `the log says where the key is kept: ${JSON.stringify(firstLog)}`,
    )
    tt.notOk(
      firstLog.some((l) => l.includes(key)),
      'and never the key itself',
    )

    const secondPort = await freePort()
    const second = startServer(tt, 'dev-key-2', { ...vars, PORT: String(secondPort) })
    const secondBase = `http://127.0.0.1:${secondPort}`
    await waitUntilAnswering(second, secondBase)
    tt.equal(readFileSync(keyFile, 'utf8').trim(), key, 'the second start reads the same key')
    const me = await http(tt, secondBase, 'GET', '/auth/users/me/', undefined, login.body.auth_token)
    tt.equal(me.status, 200, 'a token from before the restart still works')
    second.child.kill('SIGTERM')
    tt.same(await exitWithin(second, 10_000), { code: 0, signal: null })
  },
)

/** Non-empty stderr lines, ignoring Node's own warnings. */
const stderrLines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')

t.test('an unreachable database stops start-up with one line and a non-zero exit', async (tt) => {
  const server = startServer(tt, 'unreachable-database', {
    ...baseEnv,
    PORT: String(await freePort()),
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
  })
  const exit = await exitWithin(server, 20_000)
  tt.ok(exit, 'exits within 20 s')
  tt.not(exit?.code, 0, 'non-zero exit code')
  tt.equal(exit?.signal, null)
  const lines = stderrLines(server.output.stderr)
  tt.equal(lines.length, 1, `exactly one line on stderr: ${JSON.stringify(lines)}`)
  tt.match(lines[0], /^Start-up failed: /)
})

t.test('NODE_ENV=production without SECRET_KEY refuses to start, naming SECRET_KEY', async (tt) => {
  const dir = join(tmpdir(), `signal-server-srv-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const server = startServer(tt, 'no-secret-key', {
    ...baseEnv,
    NODE_ENV: 'production',
    PORT: String(await freePort()),
    DATABASE_URL: join(dir, 'db.sqlite'),
  })
  const exit = await exitWithin(server, 20_000)
  tt.ok(exit, 'exits within 20 s')
  tt.not(exit?.code, 0, 'non-zero exit code')
  const lines = stderrLines(server.output.stderr)
  tt.equal(lines.length, 1, `exactly one line on stderr: ${JSON.stringify(lines)}`)
  tt.match(lines[0], /SECRET_KEY/)
  tt.notOk(existsSync(dir), 'nothing was created before the configuration was rejected')
})

t.test('NODE_ENV=production without PUBLIC_URL refuses to start, naming PUBLIC_URL', async (tt) => {
  const dir = join(tmpdir(), `signal-server-srv-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const key = randomBytes(32).toString('hex')
  recordSecret(key, 'spawned')
  const server = startServer(tt, 'no-public-url', {
    ...baseEnv,
    NODE_ENV: 'production',
    SECRET_KEY: key,
    PORT: String(await freePort()),
    DATABASE_URL: join(dir, 'db.sqlite'),
  })
  const exit = await exitWithin(server, 20_000)
  tt.ok(exit, 'exits within 20 s')
  tt.not(exit?.code, 0, 'non-zero exit code')
  const lines = stderrLines(server.output.stderr)
  tt.equal(lines.length, 1, `exactly one line on stderr: ${JSON.stringify(lines)}`)
  tt.match(lines[0], /^Configuration error: PUBLIC_URL /)
  tt.notOk(existsSync(dir), 'nothing was created before the configuration was rejected')
})

t.test('a bad configuration value stops start-up with one line naming the variable', async (tt) => {
  const server = startServer(tt, 'bad-port', { ...baseEnv, PORT: 'eighty', DATABASE_URL: ':memory:' })
  const exit = await exitWithin(server, 20_000)
  tt.ok(exit, 'exits within 20 s')
  tt.not(exit?.code, 0, 'non-zero exit code')
  const lines = stderrLines(server.output.stderr)
  tt.equal(lines.length, 1, `exactly one line on stderr: ${JSON.stringify(lines)}`)
  tt.match(lines[0], /\bPORT\b/)
})
