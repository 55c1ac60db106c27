// `npm run migrate` as an operator runs it: scripts/migrate.ts in its own process, configured only
// through DATABASE_URL, judged by its output, its exit code and what it did to the database.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import knex, { type Knex } from 'knex'
import t, { type Test } from 'tap'
import { migrationSource } from '../../db/migrations/index.js'
import { database, freshPostgresUrl } from '../helper.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const TABLES = [
  'users',
  'sessions',
  'mfa_methods',
  'mfa_backup_codes',
  'devices',
  'signed_prekeys',
  'prekeys',
  'messages',
  'pq_prekeys',
  'pq_last_resort_prekeys',
  'auth_failures',
  'used_tokens',
  'signing_counters',
  'provisioning_sockets',
]
// Every migration the server has, in order: the same list scripts/migrate.ts applies.
const MIGRATIONS = await migrationSource.getMigrations([])

type Run = { code: number | null; stdout: string; stderr: string }

/** Runs the script with only DATABASE_URL (plus PATH and HOME) set; killed if it hangs. */
function migrate(databaseUrl: string, ...args: string[]): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), DATABASE_URL: databaseUrl }
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', ...args], {
    cwd: root,
    env,
    timeout: 30_000,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((ok, fail) => {
    child.once('error', fail)
    child.once('close', (code) => ok({ code, stdout, stderr }))
  })
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')

function sqliteTarget(tt: Test) {
  const dir = join(tmpdir(), `signal-server-migrate-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const url = join(dir, 'db.sqlite')
  return { url, open: () => knex({ client: 'better-sqlite3', connection: { filename: url }, useNullAsDefault: true }) }
}

/** A fresh PostgreSQL database, dropped at teardown. */
async function postgresTarget(tt: Test) {
  const url = await freshPostgresUrl(tt)
  return { url, open: () => knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } }) }
}

async function existingTables(db: Knex): Promise<string[]> {
  const found: string[] = []
  for (const table of TABLES) if (await db.schema.hasTable(table)) found.push(table)
  return found
}

async function lifecycle(tt: Test, target: { url: string; open: () => Knex }) {
  const pending = await migrate(target.url, 'status')
  tt.equal(pending.code, 0, `status exits 0 (${pending.stderr})`)
  tt.same(
    lines(pending.stdout),
    ['applied: none', `pending: ${MIGRATIONS.join(', ')}`],
    'empty database: every migration pending',
  )

  const applied = await migrate(target.url, 'up')
  tt.equal(applied.code, 0, `up exits 0 (${applied.stderr})`)
  tt.same(lines(applied.stdout), [`applied: ${MIGRATIONS.join(', ')}`])
  const db = target.open()
  tt.teardown(() => db.destroy())
  tt.same(await existingTables(db), TABLES, 'up created every table')
  tt.same(
    (await db('knex_migrations').select('name')).map((r) => r.name),
    MIGRATIONS,
    'recorded as applied',
  )

  const again = await migrate(target.url, 'latest')
  tt.equal(again.code, 0)
  tt.same(lines(again.stdout), ['already up to date'], 'a second up (by its old name, latest) changes nothing')
  tt.equal(Number((await db('knex_migrations').count({ n: '*' }))[0].n), MIGRATIONS.length, 'not recorded twice')

  const status = await migrate(target.url, 'status')
  tt.equal(status.code, 0)
  tt.same(lines(status.stdout), [`applied: ${MIGRATIONS.join(', ')}`, 'pending: none'])

  const rolledBack = await migrate(target.url, 'down')
  tt.equal(rolledBack.code, 0, `down exits 0 (${rolledBack.stderr})`)
  tt.same(lines(rolledBack.stdout), [`rolled back: ${[...MIGRATIONS].reverse().join(', ')}`])
  tt.same(await existingTables(db), [], 'down dropped every table')
  tt.same(await db('knex_migrations').select('name'), [], 'no longer recorded as applied')

  const nothing = await migrate(target.url, 'rollback')
  tt.equal(nothing.code, 0)
  tt.same(lines(nothing.stdout), ['nothing to roll back'], 'down by its old name, rollback')

  // No argument means up: what `npm run migrate` does.
  const byDefault = await migrate(target.url)
  tt.equal(byDefault.code, 0)
  tt.same(lines(byDefault.stdout), [`applied: ${MIGRATIONS.join(', ')}`])
  tt.same(await existingTables(db), TABLES)
}

t.test('SQLite: status, up, up again, status, down, default', async (tt) => {
  const target = sqliteTarget(tt)
  await lifecycle(tt, target)
})

if (database === 'postgres') {
  t.test('PostgreSQL: status, up, up again, status, down, default', async (tt) => {
    await lifecycle(tt, await postgresTarget(tt))
  })
}

t.test('an unknown action exits non-zero without touching the database', async (tt) => {
  const target = sqliteTarget(tt)
  const res = await migrate(target.url, 'lastest')
  tt.not(res.code, 0)
  tt.same(lines(res.stderr).length, 1, `one line on stderr: ${res.stderr}`)
  tt.match(res.stderr, /^migrate lastest failed: unknown action "lastest"/)
  tt.notOk(existsSync(dirname(target.url)), 'no SQLite file or directory was created')
})

t.test('an unreachable PostgreSQL server exits non-zero with one line', async (tt) => {
  const res = await migrate('postgres://nobody:hunter2-secret@127.0.0.1:1/x', 'latest')
  tt.not(res.code, 0)
  const errLines = lines(res.stderr)
  tt.equal(errLines.length, 1, `one line on stderr: ${res.stderr}`)
  tt.match(errLines[0], /^migrate latest failed: \S/)
  tt.equal(res.stdout, '', 'no stack traces on stdout either')
  tt.notMatch(res.stderr + res.stdout, /hunter2-secret/, 'the password is not echoed')
})
