import type { Schemas } from '../lib/handlers.js'
import { isPostgres, type Queryable, rowsOf } from './dialect.js'
import { type Prepared, prepare, run } from './driver.js'

export type MessageRow = {
  id: number
  recipient_device_id: number
  sender_address: string
  sender_registration_id: number
  recipient_address: string
  content: string
  created_at: number
  /** The sending account's email and device number at the time (null only for rows older than migration 0005). */
  sender_email: string | null
  sender_device_id: number | null
  /** The sender's own clock (ms), as the sender gave it. */
  sender_timestamp: number | null
}
type SenderFields = 'sender_email' | 'sender_device_id' | 'sender_timestamp'
export type NewMessage = Omit<MessageRow, 'id' | 'created_at' | SenderFields> & Partial<Pick<MessageRow, SenderFields>>

/**
 * A queued row as the contract's Message (REST answers and socket frames alike). `withSender`: with
 * the sender's account, device and clock, for readers whose token is bound to a device.
 */
export function toMessage(row: MessageRow, withSender = false): Schemas['Message'] {
  return {
    id: row.id,
    senderAddress: row.sender_address,
    senderRegistrationId: row.sender_registration_id,
    ...(withSender && {
      senderEmail: row.sender_email,
      senderDeviceId: row.sender_device_id,
      ...(row.sender_timestamp !== null && { timestamp: Number(row.sender_timestamp) }),
    }),
    recipientAddress: row.recipient_address,
    content: row.content,
    created: new Date(row.created_at).toISOString(),
  }
}

/** Which queued messages to list: those after `afterId`, not older than `createdAfter` (ms), at most `limit`. */
export type ListOptions = { afterId?: number; createdAfter?: number; limit?: number }

const COLUMNS = [
  'recipient_device_id',
  'sender_address',
  'sender_registration_id',
  'recipient_address',
  'content',
  'created_at',
  'sender_email',
  'sender_device_id',
  'sender_timestamp',
] as const
const VALUES = `SELECT ${COLUMNS.map(() => '?').join(', ')}`
const BOUNDED_INSERT_PG =
  prepare(`WITH slot AS (SELECT id FROM devices WHERE id = ? AND queued_messages < ? FOR NO KEY UPDATE)
  INSERT INTO messages (${COLUMNS.join(', ')}) ${VALUES} FROM slot RETURNING id`)
const BOUNDED_INSERT_SQLITE = prepare(`INSERT INTO messages (${COLUMNS.join(', ')}) ${VALUES}
  WHERE (SELECT queued_messages FROM devices WHERE id = ?) < ? RETURNING id`)
// One row per device from parallel arrays (PostgreSQL) or a JSON array of [device, address, content]
// (SQLite); the sender's columns are shared. Each device appears once, so each row's bound reads
// its own device's counter.
const MANY_INSERT_PG = prepare(`WITH m AS (
    SELECT * FROM unnest(?::int[], ?::text[], ?::text[]) AS m(recipient_device_id, recipient_address, content)),
  slot AS (SELECT id FROM devices WHERE id IN (SELECT recipient_device_id FROM m) AND queued_messages < ?
    ORDER BY id FOR NO KEY UPDATE)
  INSERT INTO messages (recipient_device_id, recipient_address, content, sender_address, sender_registration_id,
    created_at, sender_email, sender_device_id, sender_timestamp)
  SELECT m.recipient_device_id, m.recipient_address, m.content, ?, ?, ?, ?, ?, ?::bigint
  FROM m JOIN slot ON slot.id = m.recipient_device_id RETURNING id, recipient_device_id`)
const MANY_INSERT_SQLITE = prepare(`INSERT INTO messages (recipient_device_id, recipient_address, content,
    sender_address, sender_registration_id, created_at, sender_email, sender_device_id, sender_timestamp)
  SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), ?, ?, ?, ?, ?, ?
  FROM json_each(?) AS j
  WHERE (SELECT queued_messages FROM devices WHERE id = json_extract(j.value, '$[0]')) < ?
  RETURNING id, recipient_device_id`)
const DELETE_FOR_PG = prepare(`DELETE FROM messages WHERE recipient_device_id = ?
  AND id IN (SELECT jsonb_array_elements_text(?::jsonb)::bigint) RETURNING id`)
const DELETE_FOR_SQLITE = prepare(`DELETE FROM messages WHERE recipient_device_id = ?
  AND id IN (SELECT value FROM json_each(?)) RETURNING id`)
/** A listed message's columns, in the order `listFor` reads them back. */
const ROW = ['id', ...COLUMNS] as const
type RowValues = unknown[]
// Values as the drivers give them (pg's INT8 parser makes bigints numbers: db/connection.ts).
const rowOf = (v: RowValues) =>
  ({
    id: v[0],
    recipient_device_id: v[1],
    sender_address: v[2],
    sender_registration_id: v[3],
    recipient_address: v[4],
    content: v[5],
    created_at: v[6],
    sender_email: v[7],
    sender_device_id: v[8],
    sender_timestamp: v[9],
  }) as MessageRow
/** The eight shapes of `listFor`, by which options are given, each prepared once. */
const LISTS = new Map<string, Prepared>()
function listStatement(afterId?: number, createdAfter?: number, limit?: number): Prepared {
  const key = `${afterId !== undefined}${createdAfter !== undefined}${limit !== undefined}`
  let statement = LISTS.get(key)
  if (!statement) {
    const where = ['recipient_device_id = ?']
    if (afterId !== undefined) where.push('id > ?')
    if (createdAfter !== undefined) where.push('created_at > ?')
    const limited = limit !== undefined ? ' LIMIT ?' : ''
    statement = prepare(`SELECT ${ROW.join(', ')} FROM messages WHERE ${where.join(' AND ')} ORDER BY id${limited}`, {
      arrays: true,
    })
    LISTS.set(key, statement)
  }
  return statement
}
// Rows per purge statement: short statements, so senders and readers never wait long on a purge.
const PURGE_BATCH = 5000

export function messagesRepository(q: Queryable) {
  const postgres = isPostgres(q)

  // The check and the insert are one statement, and the queue length it reads is kept by triggers
  // (migration 0004), so the limit holds against concurrent sends: SQLite runs one writer at a
  // time; on PostgreSQL the device row is locked, and after waiting for a lock PostgreSQL checks
  // the condition again against the row as the other send left it.
  const boundedInsert = postgres ? BOUNDED_INSERT_PG : BOUNDED_INSERT_SQLITE

  return {
    /**
     * Queues a message unless the device already holds `limit` messages, or no longer exists:
     * undefined then (`queueLength` tells which).
     */
    async insertBounded(m: NewMessage, limit: number): Promise<MessageRow | undefined> {
      const row = { sender_email: null, sender_device_id: null, sender_timestamp: null, ...m, created_at: Date.now() }
      const columns = COLUMNS.map((c) => row[c])
      const bindings = postgres
        ? [m.recipient_device_id, limit, ...columns]
        : [...columns, m.recipient_device_id, limit]
      const [inserted] = (await run<{ id: number }>(q, boundedInsert, bindings)).rows
      return inserted ? { id: Number(inserted.id), ...row } : undefined
    },

    /**
     * Queues one message for each of several devices (at most one each), all from one sender, in
     * one statement, under the same bound as `insertBounded`: the row of each message queued, by
     * recipient device; a device that is full (or gone) gets none.
     */
    async insertBoundedMany(sent: NewMessage[], limit: number): Promise<Map<number, MessageRow>> {
      if (!sent.length) return new Map()
      const common = {
        sender_email: null,
        sender_device_id: null,
        sender_timestamp: null,
        ...sent[0],
        created_at: Date.now(),
      }
      const shared = [
        common.sender_address,
        common.sender_registration_id,
        common.created_at,
        common.sender_email,
        common.sender_device_id,
        common.sender_timestamp,
      ]
      const { rows } = postgres
        ? await run<{ id: number; recipient_device_id: number }>(q, MANY_INSERT_PG, [
            sent.map((m) => m.recipient_device_id),
            sent.map((m) => m.recipient_address),
            sent.map((m) => m.content),
            limit,
            ...shared,
          ])
        : await run<{ id: number; recipient_device_id: number }>(q, MANY_INSERT_SQLITE, [
            ...shared,
            JSON.stringify(sent.map((m) => [m.recipient_device_id, m.recipient_address, m.content])),
            limit,
          ])
      const byDevice = new Map(sent.map((m) => [m.recipient_device_id, m]))
      const out = new Map<number, MessageRow>()
      for (const r of rows) {
        const m = byDevice.get(Number(r.recipient_device_id))!
        out.set(m.recipient_device_id, { ...common, ...m, id: Number(r.id), created_at: common.created_at })
      }
      return out
    },

    /** How many messages the device holds (expired ones until purged), or undefined when there is no such device. */
    async queueLength(deviceId: number): Promise<number | undefined> {
      const row = await q('devices').where({ id: deviceId }).first('queued_messages')
      return row === undefined ? undefined : Number(row.queued_messages)
    },

    /** The device's queued messages, oldest first. */
    async listFor(deviceId: number, options: ListOptions = {}): Promise<MessageRow[]> {
      const { afterId, createdAfter, limit } = options
      const values: unknown[] = [deviceId]
      for (const v of [afterId, createdAfter, limit]) if (v !== undefined) values.push(v)
      return (await run<RowValues>(q, listStatement(afterId, createdAfter, limit), values)).rows.map(rowOf)
    },

    /** Deletes those of `ids` queued for the device and returns the ids that were deleted. */
    async deleteFor(deviceId: number, ids: number[]): Promise<Set<number>> {
      // One statement, so two racing deletes of an id cannot both report it deleted; the ids go
      // as one JSON array, so that every list length is the same prepared statement.
      if (!ids.length) return new Set()
      const statement = postgres ? DELETE_FOR_PG : DELETE_FOR_SQLITE
      const { rows } = await run<{ id: number }>(q, statement, [deviceId, JSON.stringify(ids)])
      return new Set(rows.map((r) => Number(r.id)))
    },

    /** Deletes one device's messages created at or before `cutoff` (ms); how many went. */
    async purgeExpiredFor(deviceId: number, cutoff: number): Promise<number> {
      return q('messages').where({ recipient_device_id: deviceId }).andWhere('created_at', '<=', cutoff).delete()
    },

    /**
     * Deletes every message created at or before `cutoff` (ms), in batches; returns how many went.
     * Safe to run from several instances at once: each batch is one statement, and on PostgreSQL
     * an instance that finds another purging leaves it to that one (returns 0).
     */
    async purgeExpired(cutoff: number): Promise<number> {
      // Messages are numbered in the order they arrive, so the expired ones are the oldest ids: each
      // batch looks at the PURGE_BATCH oldest rows only (the primary key, no index on created_at to
      // keep up on every send), and a batch that finds fewer expired rows than that ends the purge.
      // A message that expired behind a younger one (clocks of instances a little apart) goes in a
      // later purge; it is never delivered meanwhile.
      const oldest = `SELECT id FROM messages ORDER BY id LIMIT ${PURGE_BATCH}`
      const batch = `DELETE FROM messages WHERE id IN (${oldest}) AND created_at <= ?`
      if (!postgres) {
        let total = 0
        for (let n = PURGE_BATCH; n === PURGE_BATCH; total += n) n = (await q.raw(batch, [cutoff])).changes ?? 0
        return total
      }
      // Each batch commits on its own; the lock only keeps two instances from doing the same work.
      let total = 0
      for (;;) {
        const n = await q.transaction(async (trx) => {
          const [{ locked }] = rowsOf<{ locked: boolean }>(
            await trx.raw('SELECT pg_try_advisory_xact_lock(?, 0) AS locked', [PURGE_LOCK]),
          )
          return locked ? ((await trx.raw(batch, [cutoff])).rowCount ?? 0) : -1
        })
        if (n < 0) return total
        total += n
        if (n < PURGE_BATCH) return total
      }
    },

    /** Messages queued across all devices (from the per-device counts: no scan of the messages). */
    async countAll(): Promise<number> {
      const [{ n }] = await q('devices').sum({ n: 'queued_messages' })
      return Number(n ?? 0)
    },
  }
}

// Advisory-lock namespace (PostgreSQL): the first key of the two-key form.
const PURGE_LOCK = 0x50555247 // "PURG"
