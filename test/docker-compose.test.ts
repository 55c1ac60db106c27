// docker-compose.yml, checked without a Docker engine: `docker-compose config` (Debian's
// docker-compose package; .ci/run installs it) validates it against the Compose schema and
// resolves its variables; the result is held to what the server needs.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../lib/config.js'
import { requires } from './requirements.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SECRET_KEY = 'f3a9c2e7b1d84f6a9e0c5b7d2a1f8e4c6b9d0a3e5f7c1b2d4e6a8c0b3d5f7e9a'
const POSTGRES_PASSWORD = 'Pg0x7d2k9q'

/** `docker-compose config` with only the given variables, ignoring any .env in the work tree. */
function composeConfig(vars: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'compose-env-'))
  try {
    writeFileSync(join(dir, 'empty.env'), '')
    const r = spawnSync(
      'docker-compose',
      ['--env-file', join(dir, 'empty.env'), '--file', 'docker-compose.yml', 'config'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...vars },
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    if (r.error) throw new Error(`docker-compose could not run (apt-get install docker-compose): ${r.error.message}`)
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// Without docker-compose (and outside CI) the three tests are skipped, saying how to get it.
const needsCompose = await requires('docker-compose')
const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN)

t.test('valid, and resolved into a stack the server can run on', needsCompose, async (tt) => {
  const res = composeConfig({ SECRET_KEY, POSTGRES_PASSWORD })
  tt.equal(res.code, 0, `docker-compose config accepts the file (${res.stderr})`)
  const compose = parse(res.stdout)
  const services = compose.services as Record<string, any>
  tt.same(Object.keys(services).sort(), ['mailpit', 'postgres', 'redis', 'server'])

  for (const [name, service] of Object.entries(services)) {
    tt.ok(Array.isArray(service.healthcheck?.test) && service.healthcheck.test.length > 1, `${name} has a health check`)
    tt.ok(
      service.build || /:[\w.-]*\d[\w.-]*$/.test(service.image),
      `${name}: built here, or an image pinned to a version (${service.image})`,
    )
  }
  const server = services.server
  tt.same(
    server.depends_on,
    {
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      mailpit: { condition: 'service_healthy' },
    },
    'the server starts once its dependencies are healthy',
  )
  tt.equal(server.build.context, root, 'the server is built from this directory (its Dockerfile)')
  tt.same(server.ports, [{ published: 8000, target: 8000 }])
  tt.notMatch(
    readFileSync(join(root, 'docker-compose.yml'), 'utf8'),
    /\bsleep\b/,
    'start order comes from health checks, not sleeps',
  )

  // The server's environment is a valid production configuration, wired to the other services.
  const config = loadConfig(server.environment)
  tt.equal(config.nodeEnv, 'production')
  tt.equal(config.secretKey, SECRET_KEY, 'SECRET_KEY comes from the environment')
  const db = new URL(config.databaseUrl)
  const pg = services.postgres.environment
  tt.same(
    [db.protocol, db.hostname, db.port, db.username, db.password, db.pathname],
    ['postgres:', 'postgres', '5432', pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`],
    'DATABASE_URL names the postgres service and its credentials',
  )
  tt.equal(pg.POSTGRES_PASSWORD, POSTGRES_PASSWORD)
  tt.equal(config.redisUrl, 'redis://redis:6379', 'REDIS_URL names the redis service')
  tt.same([config.emailHost, config.emailPort], ['mailpit', 1025], 'mail goes to the mail catcher')
  tt.ok(
    seconds(server.stop_grace_period) > config.shutdownGracePeriod,
    'docker waits longer than the shutdown grace period before SIGKILL',
  )
  tt.match(server.healthcheck.test.join(' '), /\/health\/ready/, "the server's health check is its readiness probe")
})

t.test('EMAIL_HOST and friends replace the mail catcher with a real SMTP server', needsCompose, async (tt) => {
  const res = composeConfig({
    SECRET_KEY,
    POSTGRES_PASSWORD,
    EMAIL_HOST: 'smtp.example.com',
    EMAIL_PORT: '587',
    EMAIL_USE_TLS: 'true',
  })
  tt.equal(res.code, 0, res.stderr)
  const config = loadConfig(parse(res.stdout).services.server.environment)
  tt.same([config.emailHost, config.emailPort, config.emailUseTls], ['smtp.example.com', 587, true])
})

t.test('refuses to resolve without SECRET_KEY or POSTGRES_PASSWORD, naming the variable', needsCompose, async (tt) => {
  const noKey = composeConfig({ POSTGRES_PASSWORD })
  tt.not(noKey.code, 0)
  tt.match(noKey.stderr, /set SECRET_KEY/)
  const noPassword = composeConfig({ SECRET_KEY })
  tt.not(noPassword.code, 0)
  tt.match(noPassword.stderr, /set POSTGRES_PASSWORD/)
})
