// What one statement costs the server process, in isolation: the session check of every
// authenticated request, run N times in a row (one at a time, so wall time is the round trip)
// through knex's query builder and through the prepared-statement path of db/driver.ts, and a
// prepared `SELECT 1` (the floor: one round trip that does nothing). CPU per statement is this
// process's user+system time over N (and PostgreSQL's, when it runs here). This is what the
// merging of statements would save per round trip removed.
//   npx tsx scripts/bench/statement-cost.ts [--n 5000] [--db sqlite,postgres]
import type { Knex } from 'knex'
import { prepare, run } from '../../db/driver.js'
import { callCostOptions, measureCalls, onFreshDatabases } from './call-cost.js'
import type { Database } from './options.js'

const { n: N, engines, postgresUrl } = callCostOptions()

const SQL = `SELECT s.user_id, s.device_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = ? AND s.expires_at > ?`
const session = prepare(SQL)
const floor = prepare('SELECT 1 AS one')

async function probe(db: Knex, engine: Database) {
  const measure = (label: string, fn: () => Promise<unknown>) =>
    measureCalls(label, fn, { engine, calls: N, warmup: 500 })
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

await onFreshDatabases(engines, postgresUrl, async (db, engine) => {
  console.log(`${engine}: ${N} statements each, one at a time`)
  await probe(db, engine)
})
