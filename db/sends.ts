import { isPostgres, type Queryable } from './dialect.js'
import { prepare, run } from './driver.js'
import type { MessageRow } from './messages.js'

// A send's fast path: finding the recipient and queueing are one statement, so a send costs the
// session check, this statement and its event (`npm run bench -- --profile` put a third of a send's
// server CPU on PostgreSQL in the round trips: BENCHMARKS.md). Each statement queues only when
// everything the slow path would check holds; when it queues nothing, the route takes the slow
// path (messages.ts, devices.ts), which names the refusal or makes room, so the answers and the
// bounds are those of the slow path exactly.

/** What every message of one send shares: who sent it, and when. */
export type Sender = {
  sender_address: string
  sender_registration_id: number
  sender_email: string
  sender_device_id: number
  sender_timestamp: number | null
}
/** One message of a multi-device send: for the recipient's device with that number and registration ID. */
export type Outgoing = { deviceId: number; registrationId: number; content: string }

// The device's number, for the answer (a subquery: an INSERT's RETURNING sees only its own table).
const RETURNING_NUMBER = `RETURNING id, recipient_device_id,
  (SELECT device_id FROM devices WHERE devices.id = recipient_device_id) AS device_number`
const INSERTED = `INSERT INTO messages (recipient_device_id, recipient_address, content, sender_address,
  sender_registration_id, sender_email, sender_device_id, sender_timestamp, created_at)`

// The device of the account with that email and registration ID, if its queue has room. On
// PostgreSQL the device row is locked, and after waiting for the lock the bound is checked again
// against the row as the other send left it (as messages.ts's bounded insert).
const TO_DEVICE_PG = prepare(`WITH d AS (SELECT id, address FROM devices
    WHERE user_id = (SELECT id FROM users WHERE email = ?) AND registration_id = ? AND queued_messages < ?
    FOR NO KEY UPDATE)
  ${INSERTED} SELECT d.id, d.address, ?, ?, ?, ?, ?, ?::bigint, ? FROM d
  RETURNING id, recipient_device_id, recipient_address`)
const TO_DEVICE_SQLITE = prepare(`${INSERTED} SELECT d.id, d.address, ?, ?, ?, ?, ?, ?, ? FROM devices d
  WHERE d.user_id = (SELECT id FROM users WHERE email = ?) AND d.registration_id = ? AND d.queued_messages < ?
  RETURNING id, recipient_device_id, recipient_address`)

// A message for each device of the account (but the sender's own) or none: only when the messages
// name exactly those devices (numbers and registration IDs; each number at most once, which the
// route checks) and every one has room. On PostgreSQL the account's devices are locked in id order,
// as the slow path's lockAccount does, so a removal waits for this send or this send sees it gone.
const TO_ACCOUNT_PG = prepare(`WITH m AS (
    SELECT * FROM unnest(?::int[], ?::int[], ?::text[]) AS m(device_number, registration_id, content)),
  d AS (SELECT id, device_id, registration_id, address, queued_messages FROM devices
    WHERE user_id = (SELECT id FROM users WHERE email = ?) AND id <> ? ORDER BY id FOR NO KEY UPDATE),
  ok AS (SELECT count(*) = (SELECT count(*) FROM m) AND bool_and(m.device_number IS NOT NULL AND d.queued_messages < ?)
    AS ok FROM d LEFT JOIN m ON m.device_number = d.device_id AND m.registration_id = d.registration_id)
  ${INSERTED} SELECT d.id, d.address, m.content, ?, ?, ?, ?, ?::bigint, ?
  FROM m JOIN d ON d.device_id = m.device_number, ok WHERE ok.ok ${RETURNING_NUMBER}`)
const TO_ACCOUNT_SQLITE = prepare(`WITH m AS (
    SELECT json_extract(value, '$[0]') AS device_number, json_extract(value, '$[1]') AS registration_id,
      json_extract(value, '$[2]') AS content FROM json_each(?)),
  d AS (SELECT id, device_id, registration_id, address, queued_messages FROM devices
    WHERE user_id = (SELECT id FROM users WHERE email = ?) AND id <> ?),
  ok AS (SELECT count(*) = (SELECT count(*) FROM m) AND min(m.device_number IS NOT NULL AND d.queued_messages < ?)
    AS ok FROM d LEFT JOIN m ON m.device_number = d.device_id AND m.registration_id = d.registration_id)
  ${INSERTED} SELECT d.id, d.address, m.content, ?, ?, ?, ?, ?, ?
  FROM m JOIN d ON d.device_id = m.device_number, ok WHERE ok.ok ${RETURNING_NUMBER}`)

// Registration IDs and device numbers are 32-bit columns on PostgreSQL: a number outside that
// range names no device, and binding it would be a database error (a 500), not the slow path's
// refusal. Such sends take the slow path, which compares in JavaScript.
const isInt32 = (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31

const senderValues = (s: Sender) => [
  s.sender_address,
  s.sender_registration_id,
  s.sender_email,
  s.sender_device_id,
  s.sender_timestamp,
]

export function sendsRepository(q: Queryable) {
  const postgres = isPostgres(q)
  return {
    /**
     * Queues `content` for the device with `registrationId` of the account with `email`, unless
     * there is none or its queue holds `limit` messages: undefined then (the slow path tells which).
     */
    async toDevice(
      email: string,
      registrationId: number,
      content: string,
      sender: Sender,
      limit: number,
    ): Promise<MessageRow | undefined> {
      if (!isInt32(registrationId)) return undefined
      const created_at = Date.now()
      const target = [email.toLowerCase(), registrationId, limit]
      const values = [content, ...senderValues(sender), created_at]
      type Row = { id: number; recipient_device_id: number; recipient_address: string }
      const [row] = (
        postgres
          ? await run<Row>(q, TO_DEVICE_PG, [...target, ...values])
          : await run<Row>(q, TO_DEVICE_SQLITE, [...values, ...target])
      ).rows
      if (!row) return undefined
      return {
        ...sender,
        id: Number(row.id),
        recipient_device_id: Number(row.recipient_device_id),
        recipient_address: row.recipient_address,
        content,
        created_at,
      }
    },

    /**
     * Queues one message for each device of the account with `email` but `senderDeviceRowId`, all or
     * none: the queued message's id and its device's row key, by device number; undefined when the
     * messages do not name exactly those devices or one is full (the slow path tells which, or makes room).
     */
    async toAccount(
      email: string,
      senderDeviceRowId: number,
      outgoing: Outgoing[],
      sender: Sender,
      limit: number,
    ): Promise<Map<number, { id: number; deviceRowId: number }> | undefined> {
      if (!outgoing.length || !outgoing.every((m) => isInt32(m.deviceId) && isInt32(m.registrationId))) return undefined
      const account = [email.toLowerCase(), senderDeviceRowId, limit]
      const values = [...senderValues(sender), Date.now()]
      type Row = { id: number; recipient_device_id: number; device_number: number }
      const { rows } = postgres
        ? await run<Row>(q, TO_ACCOUNT_PG, [
            outgoing.map((m) => m.deviceId),
            outgoing.map((m) => m.registrationId),
            outgoing.map((m) => m.content),
            ...account,
            ...values,
          ])
        : await run<Row>(q, TO_ACCOUNT_SQLITE, [
            JSON.stringify(outgoing.map((m) => [m.deviceId, m.registrationId, m.content])),
            ...account,
            ...values,
          ])
      if (!rows.length) return undefined
      return new Map(
        rows.map((r) => [Number(r.device_number), { id: Number(r.id), deviceRowId: Number(r.recipient_device_id) }]),
      )
    },
  }
}
