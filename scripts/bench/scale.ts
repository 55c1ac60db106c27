// The scale check's data and query plans. The bulk load is seeding, not a measurement, so it goes
// straight to the database in large INSERT ... SELECT statements; the plans are those of the
// statements the server's own repositories issue (captured from knex, then explained).
import { PrivateKey } from '@signalapp/libsignal-client'
import pg from 'pg'
import type { Knex } from 'knex'
import { createKnex } from '../../db/connection.js'
import { devicesRepository } from '../../db/devices.js'
import { messagesRepository } from '../../db/messages.js'
import { type Sender, sendsRepository } from '../../db/sends.js'
import { sessionsRepository } from '../../db/sessions.js'
import { loadConfig } from '../../lib/config.js'
import { expiryCutoff } from '../../lib/expiry.js'
import { hashPassword } from '../../lib/passwords.js'
import type { Database } from './options.js'
import type { QueryPlan } from './report.js'
import { call, ciphertext, pool, type Account } from './seed.js'

/** Who the explained sends come from (the statements never look the sender up). */
const SENDER: Sender = {
  sender_address: 'x.1',
  sender_registration_id: 1,
  sender_email: 'x@bench.example.com',
  sender_device_id: 1,
  sender_timestamp: null,
}

const BATCH = 100_000
const EMAIL = (n: string) => `'scale-' || ${n} || '@bench.example.com'`
/** The sender address of every bulk-loaded message: fetch-long checks that it reads these. */
export const LOAD_SENDER = 'scale-sender.1'
/** The bulk users' shared password hash: bcrypt at cost 12 of "scale-password-never-used" (they never log in). */
const BULK_HASH = '$2y$12$G4YttRUNmLndI/6/e6bJp./C8.mA8mLnyTlFT7Qf99Zq6wyz.g4hG'
/** The long-queue users' password: they log in through the API once (the others never do). */
const LONG_PASSWORD = 'scale-long-queue-password'

/** `INSERT INTO <into> SELECT <select> FROM <from>`, where `from` may name `g`: the numbers first..last as `n`. */
function numbered(engine: Database, into: string, select: string, first: number, last: number, from = 'g'): string {
  const g =
    engine === 'postgres'
      ? `g(n) AS (SELECT CAST(generate_series(${first}, ${last}) AS BIGINT))`
      : `RECURSIVE g(n) AS (SELECT ${first} UNION ALL SELECT n + 1 FROM g WHERE n < ${last})`
  return `WITH ${g} INSERT INTO ${into} SELECT ${select} FROM ${from}`
}

/**
 * What to load. Users `scale-1` to `scale-<longDevices>` are the long-queue devices with
 * `longQueue` messages each; users after them share `messages` round-robin.
 */
export type LoadPlan = { longDevices: number; longQueue: number; users: number; messages: number }
export type LoadSummary = LoadPlan & {
  seconds: number
  /** Rows in the messages table after the load (seeded queues included). */
  tableRows: number
  /** The long-queue devices' ids, and the last message id of the load: later messages to them are a run's. */
  longDeviceIds: number[]
  lastLoadedId: number
}

/**
 * Adds the plan's users, each with a device and a live session, and their messages straight into
 * the database. All messages go in one numbered sequence, the long-queue devices' spread evenly
 * through it and the others' round-robin, so that each device's messages lie scattered through
 * the table as they would after months of traffic. Run while no server uses the database.
 */
export async function bulkLoad(
  engine: Database,
  url: string,
  plan: LoadPlan,
  log: (m: string) => void,
): Promise<LoadSummary> {
  const started = Date.now()
  const { longDevices: k, longQueue, users: regular, messages } = plan
  const users = k + regular
  const knex = createKnex(url)
  try {
    // The long-queue users log in once, so theirs is cheap and made by the server's own function.
    const longHash = await hashPassword(LONG_PASSWORD, 4)
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
            `${EMAIL('n')}, CASE WHEN n <= ${k} THEN ? ELSE ? END, ?, ?`,
            first,
            last,
          ),
          [longHash, BULK_HASH, now, now],
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
       SELECT id, email || '.1', ?, 200000 + id, ? FROM users WHERE id BETWEEN ? AND ? ORDER BY id`,
      [identity, now, min, max],
    )
    await knex.raw(
      'INSERT INTO sessions (id, user_id, created_at, expires_at) ' +
        "SELECT 'scale-session-' || id, id, ?, ? FROM users WHERE id BETWEEN ? AND ?",
      [now, now + 30 * 86400_000, min, max],
    )
    const devices = (await knex('devices')
      .whereBetween('user_id', [min, max])
      .min({ min: 'id' })
      .max({ max: 'id' })
      .first()) as { min: number; max: number }
    const firstDevice = Number(devices.min)
    if (Number(devices.max) - firstDevice + 1 !== users) throw new Error('scale devices were not numbered contiguously')
    // The message insert below computes device id and address from the user number n.
    const misplaced = await knex('devices')
      .whereBetween('id', [firstDevice, firstDevice + users - 1])
      .whereRaw(`address <> ${EMAIL(`(id - ${firstDevice - 1})`)} || '.1'`)
      .count({ n: '*' })
      .first()
    if (Number(misplaced?.n) !== 0) throw new Error('scale devices are not in the order of their users')
    log(`${users} users, devices and sessions (${k} with long queues)`)

    // Row n of the sequence is the j-th long-queue message when j = n * kL / total (integer
    // division) went up at n, else the r-th other message (r = n - j): Bresenham's spread.
    const kL = k * longQueue
    const total = kL + messages
    const j = (n: string) => `(${n} * ${kL}) / ${total}`
    const userOf = `CASE WHEN ${j('n')} > ${j('(n - 1)')} THEN 1 + (${j('n')} - 1) % ${k}
      ELSE ${k + 1} + (n - ${j('n')} - 1) % ${Math.max(1, regular)} END`
    for (let first = 1; first <= total; first += BATCH) {
      const last = Math.min(total, first + BATCH - 1)
      await knex.transaction(async (trx) => {
        await trx.raw(
          numbered(
            engine,
            'messages (recipient_device_id, sender_address, sender_registration_id, ' +
              'recipient_address, content, created_at)',
            `${firstDevice - 1} + u, '${LOAD_SENDER}', 1, ${EMAIL('u')} || '.1', ?, ?`,
            first,
            last,
            `(SELECT n, ${userOf} AS u FROM g) AS numbered ORDER BY n`,
          ),
          [content, now],
        )
      })
      if (last % 500_000 === 0 || last === total) log(`${last} messages`)
    }
    const longDeviceIds = Array.from({ length: k }, (_, i) => firstDevice + i)
    const queues = await knex('messages')
      .whereIn('recipient_device_id', longDeviceIds)
      .groupBy('recipient_device_id')
      .select('recipient_device_id')
      .count({ n: '*' })
    if (queues.length !== k || queues.some((q) => Number(q.n) !== longQueue))
      throw new Error(`the long queues do not hold ${longQueue} messages each`)
    // PostgreSQL's autovacuum would vacuum and analyze tables this size within a minute of a real
    // load; do it now, so that neither the plans nor the runs depend on when it happens. SQLite
    // has no such thing and the server never runs ANALYZE, so SQLite is left as a deployment would have it.
    if (engine === 'postgres') await knex.raw('VACUUM ANALYZE')
    const counted = await knex('messages').count({ n: '*' }).max({ last: 'id' }).first()
    log(`messages table now holds ${counted?.n} rows`)
    return {
      ...plan,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      tableRows: Number(counted?.n),
      longDeviceIds,
      lastLoadedId: Number(counted?.last),
    }
  } finally {
    await knex.destroy()
  }
}

/** Logs the long-queue devices' users in through the server at `base`: the runs' targets. */
export async function longQueueTargets(base: string, url: string, count: number): Promise<Account[]> {
  const knex = createKnex(url)
  let rows: { email: string; registration_id: number }[]
  try {
    const emails = Array.from({ length: count }, (_, i) => `scale-${i + 1}@bench.example.com`)
    rows = await knex('users')
      .join('devices', 'devices.user_id', 'users.id')
      .whereIn('users.email', emails)
      .orderBy('devices.id')
      .select('users.email', 'devices.registration_id')
  } finally {
    await knex.destroy()
  }
  if (rows.length !== count) throw new Error(`${rows.length} long-queue devices, expected ${count}`)
  return pool(rows, 4, async (r) => {
    const creds = { email: r.email, password: LONG_PASSWORD }
    const { auth_token: token } = await call<{ auth_token: string }>(base, 'POST', '/auth/login/', {
      body: creds,
      expect: 200,
    })
    return { ...creds, token, registrationId: Number(r.registration_id) }
  })
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
 * Plans of the hot queries, for the first long-queue device of the load (its queue is the one
 * fetch-long reads). Writes are explained inside a transaction that is rolled back.
 */
export async function queryPlans(engine: Database, url: string): Promise<QueryPlan[]> {
  const knex = createKnex(url)
  const pgClient = engine === 'postgres' ? new pg.Client({ connectionString: url }) : undefined
  try {
    await pgClient?.connect()
    // The first long-queue device: the queue fetch-long reads.
    const device = await knex('devices')
      .join('users', 'users.id', 'devices.user_id')
      .where('users.email', 'scale-1@bench.example.com')
      .select('devices.*', 'users.email')
      .first()
    if (!device) throw new Error('no bulk-loaded device to explain the queries for')
    // The server's defaults (queue limit, message TTL), as the benchmarked servers run with them.
    const config = loadConfig({ NODE_ENV: 'development' })
    const queued = await messagesRepository(knex).listFor(device.id, { createdAfter: expiryCutoff(config) })
    const ids = queued.slice(0, 20).map((m) => m.id)
    const hot: [string, (trx: Knex.Transaction) => Promise<unknown>][] = [
      [
        'session lookup (every authenticated request)',
        (trx) => sessionsRepository(trx).activeWithDevices(`scale-session-${device.user_id}`),
      ],
      [
        'recipient devices by email (bundle; a refused send)',
        (trx) => devicesRepository(trx).accountByEmail(device.email),
      ],
      [
        'recipient look-up and message insert, one statement (send, send-long)',
        (trx) =>
          sendsRepository(trx).toDevice(
            device.email,
            device.registration_id,
            ciphertext(device.registration_id),
            SENDER,
            config.maxQueuedMessages,
          ),
      ],
      [
        'one message per device of the account, one statement (multi-device send)',
        (trx) =>
          sendsRepository(trx).toAccount(
            device.email,
            -1,
            [{ deviceId: device.device_id, registrationId: device.registration_id, content: 'x' }],
            SENDER,
            config.maxQueuedMessages,
          ),
      ],
      [
        'queue of a device (fetch, fetch-long)',
        (trx) => messagesRepository(trx).listFor(device.id, { createdAfter: expiryCutoff(config) }),
      ],
      ['delete fetched messages (ack)', (trx) => messagesRepository(trx).deleteFor(device.id, ids)],
    ]
    const plans: QueryPlan[] = []
    for (const [name, fn] of hot) {
      for (const q of await capture(knex, fn)) {
        let plan: string
        if (pgClient) {
          // Run twice, each time rolled back: the first warms the cache, the second is reported
          // (and a write finds the rows as the first did, not deleted by it).
          const explain = async () => {
            await pgClient.query('BEGIN')
            try {
              const res = await pgClient.query<{ 'QUERY PLAN': string }>(
                `EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`,
                q.bindings,
              )
              return res.rows.map((r) => r['QUERY PLAN']).join('\n')
            } finally {
              await pgClient.query('ROLLBACK')
            }
          }
          await explain()
          plan = await explain()
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
