import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../../lib/config.js'
import { captureOutput } from '../log-capture.js'

const STRONG = 'Vb7q2LmX9pKd4RtZ8wYc3NfH6sJe1GuA0oQi5TzB'
// What a production environment sets besides its key: where it lives (PUBLIC_URL is required there).
const PRODUCTION = { NODE_ENV: 'production', PUBLIC_URL: 'https://chat.example.com' }

/** The error `fn` throws (undefined when it does not throw). */
function thrown(fn: () => unknown): Error | undefined {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  return undefined
}

/** Asserts that `env` is refused with a ConfigError whose one-line message starts with `variable`. */
function refused(tt: Test, env: Record<string, string>, variable: string) {
  try {
    loadConfig(env)
    tt.fail(`${JSON.stringify(env)} was accepted`)
  } catch (err) {
    tt.type(err, ConfigError, `${JSON.stringify(env)} throws ConfigError`)
    const message = (err as Error).message
    tt.ok(message.startsWith(variable), `message names ${variable}: ${message}`)
    tt.notMatch(message, /\n/, 'one line')
  }
}

t.test('defaults: nothing set serves SQLite under ./data/ on 127.0.0.1:8000 with the seed throttles', async (tt) => {
  const c = loadConfig({})
  tt.equal(c.port, 8000)
  tt.equal(c.host, '127.0.0.1')
  tt.match(c.databaseUrl, /^\.\/data\/[^/]+\.sqlite$/)
  tt.equal(c.throttleAnon, '30/hour')
  tt.equal(c.throttleUser, '1000/day')
  tt.equal(c.throttlePrekeybundle, '100/day')
  tt.equal(c.maxPrekeys, 100)
  tt.equal(c.maxMessageBytes, 65536)
  tt.same(c.allowedHosts, [])
  tt.equal(c.emailUseTls, false)
  tt.equal(c.emailUseSsl, false)
  tt.equal(c.redisUrl, undefined)
  tt.equal(c.emailHost, undefined, 'no EMAIL_HOST: mails go to the log')
  tt.equal(c.publicUrl, 'http://localhost:8000')
  tt.equal(c.nodeEnv, 'development')
})

t.test('development without SECRET_KEY gets a random throwaway key, different each start', async (tt) => {
  const a = loadConfig({}).secretKey
  const b = loadConfig({}).secretKey
  tt.ok(a.length >= 32)
  tt.not(a, b)
})

t.test('plain variables are read and typed', async (tt) => {
  const c = loadConfig({
    PORT: '9001',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u@db:5432/signal',
    SECRET_KEY: STRONG,
    REDIS_URL: 'redis://cache:6379',
    EMAIL_HOST: 'smtp.example.com',
    EMAIL_PORT: '587',
    EMAIL_HOST_USER: 'mailer',
    EMAIL_HOST_PASSWORD: 'pw',
    EMAIL_TIMEOUT: '2.5',
    PUBLIC_URL: 'https://chat.example.com/',
    THROTTLE_ANON: '20/minute',
    THROTTLE_USER: 'off',
    THROTTLE_PREKEYBUNDLE: '5/d',
    MAX_PREKEYS: '50',
    MAX_MESSAGE_BYTES: '1024',
  })
  tt.equal(c.port, 9001)
  tt.equal(c.host, '0.0.0.0')
  tt.equal(c.databaseUrl, 'postgres://u@db:5432/signal')
  tt.equal(c.secretKey, STRONG)
  tt.equal(c.redisUrl, 'redis://cache:6379')
  tt.equal(c.emailHost, 'smtp.example.com')
  tt.equal(c.emailPort, 587)
  tt.equal(c.emailHostUser, 'mailer')
  tt.equal(c.emailHostPassword, 'pw')
  tt.equal(c.emailTimeout, 2.5)
  tt.equal(c.publicUrl, 'https://chat.example.com', 'trailing slash dropped so links join cleanly')
  tt.equal(c.throttleAnon, '20/minute')
  tt.equal(c.throttleUser, 'off')
  tt.equal(c.throttlePrekeybundle, '5/d')
  tt.equal(c.maxPrekeys, 50)
  tt.equal(c.maxMessageBytes, 1024)
})

t.test('an empty variable counts as unset', async (tt) => {
  const c = loadConfig({ PORT: '', SECRET_KEY: '', DJANGO_SECRET_KEY: STRONG })
  tt.equal(c.port, 8000)
  tt.equal(c.secretKey, STRONG)
})

t.test('seed alias DJANGO_SECRET_KEY; SECRET_KEY wins when both are set', async (tt) => {
  tt.equal(loadConfig({ DJANGO_SECRET_KEY: STRONG }).secretKey, STRONG)
  tt.equal(loadConfig({ DJANGO_SECRET_KEY: STRONG, SECRET_KEY: STRONG + 'x' }).secretKey, STRONG + 'x')
  tt.equal(loadConfig({ ...PRODUCTION, DJANGO_SECRET_KEY: STRONG }).secretKey, STRONG, 'satisfies production')
})

t.test('seed alias DJANGO_ALLOWED_HOSTS is space-separated', async (tt) => {
  tt.same(loadConfig({ DJANGO_ALLOWED_HOSTS: 'foo.com baa.com  .example.org' }).allowedHosts, [
    'foo.com',
    'baa.com',
    '.example.org',
  ])
  tt.same(loadConfig({ ALLOWED_HOSTS: 'a.com' }).allowedHosts, ['a.com'])
  tt.same(loadConfig({ ALLOWED_HOSTS: 'a.com', DJANGO_ALLOWED_HOSTS: 'b.com' }).allowedHosts, ['a.com'])
})

t.test('2FA_* names and their MFA_* spellings (sh drops names starting with a digit)', async (tt) => {
  tt.equal(loadConfig({ '2FA_FROM_EMAIL': 'security@example.com' }).fromEmail, 'security@example.com')
  tt.equal(loadConfig({ MFA_FROM_EMAIL: 'mfa@example.com' }).fromEmail, 'mfa@example.com')
  tt.equal(loadConfig({ '2FA_APPLICATION_NAME': 'Chatty' }).applicationName, 'Chatty')
  tt.equal(loadConfig({ MFA_APPLICATION_NAME: 'Chatty MFA' }).applicationName, 'Chatty MFA')
  const both = loadConfig({ '2FA_APPLICATION_NAME': 'Seed name', MFA_APPLICATION_NAME: 'Other' })
  tt.equal(both.applicationName, 'Seed name', 'the seed name wins when both are set')
})

t.test("the seed's DATABASE_NAME/USER/PASSWORD/HOST/PORT become a postgres URL", async (tt) => {
  const c = loadConfig({
    DATABASE_NAME: 'signal',
    DATABASE_USER: 'app',
    DATABASE_PASSWORD: 'pw',
    DATABASE_HOST: 'db.internal',
    DATABASE_PORT: '6543',
  })
  tt.equal(c.databaseUrl, 'postgres://app:pw@db.internal:6543/signal')
  tt.equal(
    loadConfig({ DATABASE_NAME: 'signal' }).databaseUrl,
    'postgres://127.0.0.1:5432/signal',
    'host and port default',
  )
  const direct = loadConfig({ DATABASE_URL: './data/x.sqlite', DATABASE_NAME: 'signal' })
  tt.equal(direct.databaseUrl, './data/x.sqlite', 'DATABASE_URL wins')
})

t.test('special characters in the seed database password are URL-encoded and survive parsing', async (tt) => {
  const password = 'p@ss:w/rd#?% &é'
  const c = loadConfig({
    DATABASE_NAME: 'signal',
    DATABASE_USER: 'us@r',
    DATABASE_PASSWORD: password,
    DATABASE_HOST: 'db',
  })
  const url = new URL(c.databaseUrl)
  tt.equal(url.protocol, 'postgres:')
  tt.equal(decodeURIComponent(url.password), password)
  tt.equal(decodeURIComponent(url.username), 'us@r')
  tt.equal(url.hostname, 'db')
  tt.equal(url.port, '5432')
  tt.equal(url.pathname, '/signal')
})

t.test('production refuses to start without SECRET_KEY', async (tt) => {
  refused(tt, { ...PRODUCTION }, 'SECRET_KEY')
  tt.equal(loadConfig({ ...PRODUCTION, SECRET_KEY: STRONG }).nodeEnv, 'production')
})

t.test('production refuses to start without PUBLIC_URL, naming it in one line', async (tt) => {
  refused(tt, { NODE_ENV: 'production', SECRET_KEY: STRONG }, 'PUBLIC_URL')
  refused(tt, { NODE_ENV: 'production', SECRET_KEY: STRONG, PUBLIC_URL: '' }, 'PUBLIC_URL')
  refused(tt, { NODE_ENV: 'production', SECRET_KEY: STRONG, PUBLIC_URL: 'chat.example.com' }, 'PUBLIC_URL')
  const c = loadConfig({ NODE_ENV: 'production', SECRET_KEY: STRONG, PUBLIC_URL: 'https://chat.example.com/' })
  tt.equal(c.publicUrl, 'https://chat.example.com')
  tt.equal(loadConfig({ PORT: '9001' }).publicUrl, 'http://localhost:9001', 'development still defaults to localhost')
})

t.test('production refuses a known weak SECRET_KEY', async (tt) => {
  refused(tt, { ...PRODUCTION, SECRET_KEY: 'changeme' }, 'SECRET_KEY')
  // What Django's startproject generates: long enough, but a development key.
  refused(
    tt,
    { ...PRODUCTION, SECRET_KEY: 'django-insecure-k2#a9v!x@0s8d7f6g5h4j3k2l1q0w9e8r7t6y5u4i3o2p1' },
    'SECRET_KEY',
  )
  refused(
    tt,
    { ...PRODUCTION, DJANGO_SECRET_KEY: 'django-insecure-k2#a9v!x@0s8d7f6g5h4j3k2l1q0w9e8r7t6y5u4i3o2p1' },
    'DJANGO_SECRET_KEY',
  )

  // Placeholders, however long, and keys with too little variety to be random.
  for (const weak of [
    'please-change-me-before-going-to-production-ok',
    'my-super-secret-key-for-the-signal-server',
    'a'.repeat(64),
    '0123456701234567012345670123456701234567',
    'test-secret-key-that-is-long-enough-0123456789',
  ]) {
    refused(tt, { ...PRODUCTION, SECRET_KEY: weak }, 'SECRET_KEY')
    tt.equal(loadConfig({ SECRET_KEY: weak }).secretKey, weak, 'development accepts it')
  }
  // What `openssl rand -hex 32` and `-base64 48` print is accepted.
  for (const strong of [
    '9f2c4e81b07d3a56e1f08c2d4b97a6e3c05f18d2a7b4e9c61d3f0a8b5e27c94d',
    'q3Zr8T0vLw1+KxN5mYb2/HdE7sGj4PcUa9fRiO6nQeXlVtBkCzMhSyWpAgJuD0Io',
  ]) {
    tt.equal(loadConfig({ ...PRODUCTION, SECRET_KEY: strong }).secretKey, strong)
  }
})

t.test('a short SECRET_KEY is refused in any environment, without echoing it', async (tt) => {
  refused(tt, { SECRET_KEY: 'too-short' }, 'SECRET_KEY')
  refused(tt, { DJANGO_SECRET_KEY: 'too-short' }, 'DJANGO_SECRET_KEY')
  const err = thrown(() => loadConfig({ SECRET_KEY: 'too-short-hunter2' }))
  tt.type(err, ConfigError)
  tt.notMatch(err?.message ?? '', /hunter2/)
})

t.test('bad values stop start-up with one line naming the variable', async (tt) => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '8080.5' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ THROTTLE_ANON: '3/fortnight' }, 'THROTTLE_ANON'],
    [{ THROTTLE_USER: 'lots' }, 'THROTTLE_USER'],
    [{ THROTTLE_PREKEYBUNDLE: '3 per day' }, 'THROTTLE_PREKEYBUNDLE'],
    [{ EMAIL_USE_TLS: 'true', EMAIL_USE_SSL: 'true' }, 'EMAIL_USE_TLS'],
    [{ EMAIL_USE_TLS: 'maybe' }, 'EMAIL_USE_TLS'],
    [{ EMAIL_PORT: 'smtp' }, 'EMAIL_PORT'],
    [{ BCRYPT_COST: '2' }, 'BCRYPT_COST'],
    [{ BCRYPT_COST: '40' }, 'BCRYPT_COST'],
    [{ MAX_PREKEYS: '0' }, 'MAX_PREKEYS'],
    [{ MAX_MESSAGE_BYTES: 'big' }, 'MAX_MESSAGE_BYTES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
    [{ PUBLIC_URL: 'chat.example.com' }, 'PUBLIC_URL'],
    [{ DATABASE_NAME: 'signal', DATABASE_PORT: 'five' }, 'DATABASE_PORT'],
  ]
  for (const [env, variable] of cases) refused(tt, env, variable)
})

t.test('the error names the value that was read', async (tt) => {
  tt.match(thrown(() => loadConfig({ PORT: 'abc' }))?.message, /"abc"/)
  tt.match(thrown(() => loadConfig({ LOG_LEVEL: 'loud' }))?.message, /info/, 'lists the allowed levels')
})

t.test("booleans: 'true'/'false', and the seed's Python spellings", async (tt) => {
  tt.equal(loadConfig({ EMAIL_USE_TLS: 'true' }).emailUseTls, true)
  tt.equal(loadConfig({ EMAIL_USE_TLS: 'false' }).emailUseTls, false)
  tt.equal(loadConfig({ EMAIL_USE_SSL: 'true' }).emailUseSsl, true)
  tt.equal(loadConfig({ EMAIL_USE_SSL: 'True' }).emailUseSsl, true)
  tt.equal(
    loadConfig({ EMAIL_USE_TLS: 'False', EMAIL_USE_SSL: 'True' }).emailUseTls,
    false,
    'False is not mistaken for true',
  )
  tt.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, true)
  tt.equal(loadConfig({ TRUST_PROXY: '0' }).trustProxy, false)
})

t.test('overrides win over the environment and are validated too', async (tt) => {
  tt.equal(loadConfig({ PORT: '9001' }, { port: 9002 }).port, 9002)
  tt.equal(loadConfig({ PORT: 'abc' }, { port: 9002 }).port, 9002, 'a bad variable that is overridden does not matter')
  tt.type(
    thrown(() => loadConfig({}, { throttleAnon: '3/fortnight' })),
    ConfigError,
  )
})

t.test('the server entry point exits non-zero with one line naming PORT', async (tt) => {
  const cwd = fileURLToPath(new URL('../..', import.meta.url))
  // A minimal environment: nothing from this test run (TEST_DB, NODE_ENV...) leaks into the server.
  // Not even LOG_LEVEL=trace under `npm test`: the assertions below are about this environment, and
  // the process exits in loadConfig, before any logger exists. Its output is captured as it is (it
  // is given no secret to record).
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: 'abc' }
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = captureOutput(child, 'server-config-port')
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const { stdout, stderr } = output
  tt.not(code, 0, 'exit code')
  tt.not(code, null, 'exited by itself, not killed')
  const lines = stderr.trim().split('\n')
  tt.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(stderr)}`)
  tt.match(lines[0], /\bPORT\b/)
  tt.match(lines[0], /abc/)
  tt.equal(stdout, '', 'nothing else printed')
})
