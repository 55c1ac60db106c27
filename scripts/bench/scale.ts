// The scale check's data and query plans. The bulk load is seeding, not a measurement, so it goes
// straight to the database in large INSERT ... SELECT statements; the plans are those of the
// statements the server's own repositories issue (captured from knex, then explained).
import { hash } from '@node-rs/bcrypt'
import { PrivateKey } from '@signalapp/libsignal-client'
import pg from 'pg'
import type { Knex } from 'knex'
import { createKnex } from '../../db/connection.js'
import { devicesRepository } from '../../db/devices.js'
import { messagesRepository } from '../../db/messages.js'
import { sessionsRepository } from '../../db/sessions.js'
import { loadConfig } from '../../lib/config.js'
import { expiryCutoff } from '../../lib/expiry.js'
import type { Database } from './options.js'
import type { QueryPlan } from './report.js'
import { ciphertext } from './seed.js'

const BATCH = 100_000
const EMAIL = (n: string) => `'scale-' || ${n} || '@bench.example.com'`

/** `INSERT INTO <into> SELECT <select> FROM` the numbers first..last as `n`, in the engine's dialect. */
function numbered(engine: Database, into: string, select: string, first: number, last: number): string {
  return engine === 'postgres'
    ? `INSERT INTO ${into} SELECT ${select} FROM generate_series(${first}, ${last}) AS g(n)`
    : `WITH RECURSIVE g(n) AS (SELECT ${first} UNION ALL SELECT n + 1 FROM g WHERE n < ${last}) INSERT INTO ${into} SELECT ${select} FROM g`
}

export type LoadSummary = { users: number; messages: number; seconds: number }

/**
 * Adds `users` users, each with a device and a live session, and `messages` messages spread over
 * their devices round-robin, so that each device's messages lie scattered through the table as
 * they would after months of traffic. Run while no server uses the database.
 */
export async function bulkLoad(
  engine: Database,
  url: string,
  users: number,
  messages: number,
  log: (m: string) => void,
): Promise<LoadSummary> {
  const started = Date.now()
  const knex = createKnex(url)
  try {
    const passwordHash = await hash('scale-password-never-used', 12)
    const identity = Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64')
    const now = Date.now()
    const content = ciphertext(1)
    for (let first = 1; first <= users; first += BATCH) {
      const last = Math.min(users, first + BATCH - 1)
      await knex.transaction(async (trx) => {
        await trx.raw(
          numbered(
            engine,
            'users (email, password_hash, password_changed_at, created_at)',
            `${EMAIL('n')}, ?, ?, ?`,
            first,
            last,
          ),
          [passwordHash, now, now],
        )
      })
    }
    const { min, max } = (await knex('users')
      .where('email', 'like', 'scale-%@bench.example.com')
      .min({ min: 'id' })
      .max({ max: 'id' })
      .first()) as { min: number; max: number }
    if (Number(max) - Number(min) + 1 !== users) throw new Error('scale users were not numbered contiguously')
    await knex.raw(
      `INSERT INTO devices (user_id, address, identity_key, registration_id, created_at)
       SELECT id, email || '.1', ?, 200000 + id, ? FROM users WHERE id BETWEEN ? AND ?`,
      [identity, now, min, max],
    )
    await knex.raw(
      `INSERT INTO sessions (id, user_id, created_at, expires_at) SELECT 'scale-session-' || id, id, ?, ? FROM users WHERE id BETWEEN ? AND ?`,
      [now, now + 30 * 86400_000, min, max],
    )
    const devices = (await knex('devices')
      .whereBetween('user_id', [min, max])
      .min({ min: 'id' })
      .max({ max: 'id' })
      .first()) as { min: number; max: number }
    if (Number(devices.max) - Number(devices.min) + 1 !== users)
      throw new Error('scale devices were not numbered contiguously')
    log(`${users} users, devices and sessions`)
    const deviceOf = `(${Number(devices.min)} + (n % ${users}))`
    for (let first = 1; first <= messages; first += BATCH) {
      const last = Math.min(messages, first + BATCH - 1)
      await knex.transaction(async (trx) => {
        await trx.raw(
          numbered(
            engine,
            'messages (recipient_device_id, sender_address, sender_registration_id, recipient_address, content, created_at)',
            `${deviceOf}, 'scale-sender.1', 1, ${EMAIL(`(${min} + (n % ${users}))`)} || '.1', ?, ?`,
            first,
            last,
          ),
          [content, now],
        )
      })
      if (last % 500_000 === 0 || last === messages) log(`${last} messages`)
    }
    // PostgreSQL's autovacuum would analyze tables this size within a minute of a real load; do it
    // now so that the plans do not depend on the timing. SQLite has no such thing and the server
    // never runs ANALYZE, so SQLite is left as a deployment would have it.
    if (engine === 'postgres') await knex.raw('ANALYZE')
    const counted = await knex('messages').count({ n: '*' }).first()
    log(`messages table now holds ${counted?.n} rows`)
  } finally {
    await knex.destroy()
  }
  return { users, messages, seconds: Math.round((Date.now() - started) / 100) / 10 }
}

type Captured = { sql: string; bindings: unknown[] }
class Rollback extends Error {}

/** The SQL knex sends for `fn`, run inside a transaction that is then rolled back. */
async function capture(knex: Knex, fn: (trx: Knex.Transaction) => Promise<unknown>): Promise<Captured[]> {
  const seen: Captured[] = []
  const listener = (q: { sql: string; bindings?: unknown[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] })
  knex.on('query', listener)
  try {
    await knex.transaction(async (trx) => {
      await fn(trx)
      throw new Rollback()
    })
  } catch (err) {
    if (!(err instanceof Rollback)) throw err
  } finally {
    knex.off('query', listener)
  }
  return seen.filter((q) => !/^(begin|commit|rollback|savepoint|release)/i.test(q.sql.trim()))
}

/** SQLite's EXPLAIN QUERY PLAN rows as the indented tree the sqlite3 shell prints. */
function sqliteTree(rows: { id: number; parent: number; detail: string }[]): string {
  const depth = new Map<number, number>([[0, -1]])
  return rows
    .map((r) => {
      const d = (depth.get(r.parent) ?? -1) + 1
      depth.set(r.id, d)
      return `${'   '.repeat(d)}${d ? '`--' : ''}${r.detail}`
    })
    .join('\n')
}

/**
 * Plans of the hot queries, for one of the bulk-loaded devices (its queue: messages/users of the
 * load). Writes are explained inside a transaction that is rolled back.
 */
export async function queryPlans(engine: Database, url: string): Promise<QueryPlan[]> {
  const knex = createKnex(url)
  const pgClient = engine === 'postgres' ? new pg.Client({ connectionString: url }) : undefined
  try {
    await pgClient?.connect()
    const device = await knex('devices')
      .join('users', 'users.id', 'devices.user_id')
      .where('users.email', 'like', 'scale-%')
      .select('devices.*', 'users.email')
      .orderBy('devices.id', 'desc')
      .first()
    if (!device) throw new Error('no bulk-loaded device to explain the queries for')
    // The server's defaults (queue limit, message TTL), as the benchmarked servers run with them.
    const config = loadConfig({ NODE_ENV: 'development' })
    const queued = await messagesRepository(knex).listFor(device.id, { createdAfter: expiryCutoff(config) })
    const ids = queued.slice(0, 20).map((m) => m.id)
    const hot: [string, (trx: Knex.Transaction) => Promise<unknown>][] = [
      [
        'session lookup (every authenticated request)',
        (trx) => sessionsRepository(trx).activeUserId(`scale-session-${device.user_id}`),
      ],
      ["caller's device by user (every device operation)", (trx) => devicesRepository(trx).findByUser(device.user_id)],
      ['recipient device by email (send, bundle)', (trx) => devicesRepository(trx).findByEmail(device.email)],
      [
        'message insert (send)',
        (trx) =>
          messagesRepository(trx).insertBounded(
            {
              recipient_device_id: device.id,
              sender_address: 'x.1',
              sender_registration_id: 1,
              recipient_address: device.address,
              content: ciphertext(device.registration_id),
            },
            config.maxQueuedMessages,
          ),
      ],
      ['queue of a device (fetch)', (trx) => messagesRepository(trx).listFor(device.id, { createdAfter: expiryCutoff(config) })],
      ['delete fetched messages (ack)', (trx) => messagesRepository(trx).deleteFor(device.id, ids)],
    ]
    const plans: QueryPlan[] = []
    for (const [name, fn] of hot) {
      for (const q of await capture(knex, fn)) {
        let plan: string
        if (pgClient) {
          await pgClient.query('BEGIN')
          try {
            const explain = `EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`
            await pgClient.query(explain, q.bindings) // first run warms the cache; the second is reported
            const res = await pgClient.query<{ 'QUERY PLAN': string }>(explain, q.bindings)
            plan = res.rows.map((r) => r['QUERY PLAN']).join('\n')
          } finally {
            await pgClient.query('ROLLBACK')
          }
        } else {
          const rows = (await knex.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as Knex.RawBinding[])) as {
            id: number
            parent: number
            detail: string
          }[]
          plan = sqliteTree(rows) || '(no plan rows: a plain insert into the table and its indexes)'
        }
        plans.push({ name, sql: q.sql, plan })
      }
    }
    return plans
  } finally {
    await pgClient?.end()
    await knex.destroy()
  }
}
