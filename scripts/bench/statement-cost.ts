// What one statement costs the server process, in isolation: the session check of every
// authenticated request, run N times in a row (one at a time, so wall time is the round trip)
// through knex's query builder and through the prepared-statement path of db/driver.ts, and a
// prepared `SELECT 1` (the floor: one round trip that does nothing). Client CPU per statement is
// this process's user+system time over N. This is what the merging of statements would save per
// round trip removed.
//   npx tsx scripts/bench/statement-cost.ts [--n 5000] [--db sqlite,postgres]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Knex } from 'knex'
import { createKnex, migrateLatest } from '../../db/connection.js'
import { prepare, run } from '../../db/driver.js'
import { freshDatabase } from './databases.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    db: { type: 'string', default: 'sqlite,postgres' },
    'postgres-url': {
      type: 'string',
      default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  },
})
const N = Number(values.n)

const SQL = `SELECT s.user_id, s.device_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = ? AND s.expires_at > ?`
const session = prepare(SQL)
const floor = prepare('SELECT 1 AS one')

async function measure(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 500; i++) await fn() // warm-up: JIT, prepared statements on the connection
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await fn()
  const wallUs = Number(process.hrtime.bigint() - started) / 1000 / N
  const used = process.cpuUsage(cpu)
  const cpuUs = (used.user + used.system) / N
  console.log(
    `  ${label.padEnd(36)} client CPU ${cpuUs.toFixed(1).padStart(6)} µs   wall ${wallUs.toFixed(1).padStart(6)} µs`,
  )
}

async function probe(db: Knex) {
  const [userId] = await db('users')
    .insert({ email: 'probe@example.com', password_hash: 'x', password_changed_at: 0, created_at: 0 })
    .returning('id')
  const id = typeof userId === 'object' ? userId.id : userId
  await db('sessions').insert({ id: 'probe', user_id: id, created_at: Date.now(), expires_at: Date.now() + 3_600_000 })
  await measure('session check, knex query builder', () =>
    db('sessions')
      .join('users', 'users.id', 'sessions.user_id')
      .where('sessions.id', 'probe')
      .andWhere('sessions.expires_at', '>', Date.now())
      .first('sessions.user_id', 'sessions.device_id', 'users.email'),
  )
  await measure('session check, knex.raw', () => db.raw(SQL, ['probe', Date.now()]))
  await measure('session check, prepared (db/driver)', () => run(db, session, ['probe', Date.now()]))
  await measure('SELECT 1, prepared (db/driver)', () => run(db, floor, []))
}

const tmp = mkdtempSync(join(tmpdir(), 'statement-cost-'))
try {
  for (const engine of values.db.split(',') as ('sqlite' | 'postgres')[]) {
    const fresh = await freshDatabase(engine, tmp, values['postgres-url'])
    const db = createKnex(fresh.url)
    try {
      await migrateLatest(db)
      console.log(`${engine}: ${N} statements each, one at a time`)
      await probe(db)
    } finally {
      await db.destroy()
      await fresh.drop()
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
