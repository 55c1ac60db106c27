import type { KyberPreKey, PreKey, SignedPreKey } from '../lib/key-checks.js'
import { insertedId, isPostgres, type Queryable, rowsOf } from './dialect.js'
import { prepare, run } from './driver.js'

export type DeviceRow = {
  /** The row's key: what other tables and sessions refer to. */
  id: number
  user_id: number
  /** The device's number within its account (the API's `deviceId`). */
  device_id: number
  address: string
  identity_key: string
  registration_id: number
  name: string | null
  created_at: number
  /** UTC midnight (ms) of the day the device last used the server. */
  last_seen_at: number
  signing_key: string | null
}
export type NewDevice = {
  address: string
  identityKey: string
  registrationId: number
  preKeys: PreKey[]
  signedPreKey: SignedPreKey
  pqPreKeys?: KyberPreKey[]
  pqLastResortPreKey?: KyberPreKey
  signingKey?: string
  name?: string
}

const DAY_MS = 86_400_000
/** UTC midnight of the day `ms` falls in. */
const dayOf = (ms: number) => ms - (ms % DAY_MS)

/** A device row's columns, in the order `devicesOf` reads them (selected as `d`). */
export const DEVICE_COLUMNS = [
  'id',
  'user_id',
  'device_id',
  'address',
  'identity_key',
  'registration_id',
  'name',
  'created_at',
  'last_seen_at',
  'signing_key',
]
  .map((c) => `d.${c}`)
  .join(', ')

/**
 * The device rows of a left join onto devices (none when the join found none), from rows read as
 * arrays (db/driver.ts) whose device columns, DEVICE_COLUMNS, start at `from`.
 */
export function devicesOf(rows: unknown[][], from: number): DeviceRow[] {
  return rows
    .filter((r) => r[from] !== null && r[from] !== undefined)
    .map((r) => ({
      id: r[from] as number,
      user_id: r[from + 1] as number,
      device_id: r[from + 2] as number,
      address: r[from + 3] as string,
      identity_key: r[from + 4] as string,
      registration_id: r[from + 5] as number,
      name: r[from + 6] as string | null,
      created_at: r[from + 7] as number,
      last_seen_at: r[from + 8] as number,
      signing_key: r[from + 9] as string | null,
    }))
}

/** A sender's look-up of the recipient on every bundle (and a refused send): a prepared statement (db/driver.ts). */
const ACCOUNT_BY_EMAIL = prepare(
  `SELECT u.id, u.email, ${DEVICE_COLUMNS}
  FROM users u LEFT JOIN devices d ON d.user_id = u.id WHERE u.email = ? ORDER BY d.device_id`,
  { arrays: true },
)

/** An account found by email, with its devices by number (none: an empty list). */
export type Account = { userId: number; email: string; devices: DeviceRow[] }

/** Row locks a send or a bundle claim takes (PostgreSQL; SQLite runs one writer at a time): prepared. */
const LOCK = {
  update: prepare('SELECT id FROM devices WHERE id = ? FOR UPDATE'),
  share: prepare('SELECT id FROM devices WHERE id = ? FOR SHARE'),
  none: prepare('SELECT id FROM devices WHERE id = ?'),
}
const LOCK_ACCOUNT = {
  send: prepare('SELECT * FROM devices WHERE user_id = ? ORDER BY id FOR NO KEY UPDATE'),
  share: prepare('SELECT * FROM devices WHERE user_id = ? ORDER BY id FOR SHARE'),
  none: prepare('SELECT * FROM devices WHERE user_id = ? ORDER BY id'),
}

export function devicesRepository(q: Queryable) {
  return {
    /** The account's devices, ordered by number. */
    listByUser: (userId: number): Promise<DeviceRow[]> =>
      q<DeviceRow>('devices').where({ user_id: userId }).orderBy('device_id'),

    findById: (id: number): Promise<DeviceRow | undefined> => q<DeviceRow>('devices').where({ id }).first(),

    /** The user with that email and its devices, in one round trip; undefined for no such user. */
    async accountByEmail(email: string): Promise<Account | undefined> {
      const { rows } = await run<unknown[]>(q, ACCOUNT_BY_EMAIL, [email.toLowerCase()])
      if (!rows.length) return undefined
      return { userId: rows[0][0] as number, email: rows[0][1] as string, devices: devicesOf(rows, 2) }
    },

    /**
     * The next device number of the account (one more than the highest it ever had). On PostgreSQL
     * the account's row stays locked until the transaction ends, so registrations for one account
     * run one after another and the device cap holds; SQLite runs one write transaction at a time.
     */
    async nextNumber(userId: number): Promise<number> {
      const sql = 'UPDATE users SET last_device_id = last_device_id + 1 WHERE id = ? RETURNING last_device_id'
      const [row] = rowsOf<{ last_device_id: number }>(await q.raw(sql, [userId]))
      return Number(row.last_device_id)
    },

    /**
     * Inserts the device row as the account's device number `deviceId` (from `nextNumber`) and returns
     * its row key; its keys go in with the keys repository, in the same transaction.
     */
    async insert(userId: number, d: NewDevice, deviceId = 1): Promise<number> {
      const now = Date.now()
      const row = {
        user_id: userId,
        device_id: deviceId,
        address: d.address,
        identity_key: d.identityKey,
        registration_id: d.registrationId,
        signing_key: d.signingKey ?? null,
        name: d.name ?? null,
        created_at: now,
        last_seen_at: dayOf(now),
      }
      const [inserted] = await q('devices').insert(row).returning('id')
      return insertedId(inserted)
    },

    /** Records that the device was seen today: at most one write per device per day. */
    async touch(device: DeviceRow, now = Date.now()): Promise<void> {
      const today = dayOf(now)
      if (device.last_seen_at >= today) return
      await q('devices').where({ id: device.id }).andWhere('last_seen_at', '<', today).update({ last_seen_at: today })
      device.last_seen_at = today
    },

    /** Records a signed request's counter if it is above the last one for that key; false for a replay. */
    async advanceSigningCounter(signingKey: string, counter: number): Promise<boolean> {
      const sql = `INSERT INTO signing_counters (signing_key, counter) VALUES (?, ?)
        ON CONFLICT (signing_key) DO UPDATE SET counter = excluded.counter
        WHERE signing_counters.counter < excluded.counter
        RETURNING counter`
      const result = await q.raw(sql, [signingKey, counter])
      return rowsOf(result).length === 1
    },

    /** Keys, queued messages and sessions bound to it go with it through ON DELETE CASCADE; false when it was gone. */
    delete: async (id: number): Promise<boolean> => (await q('devices').where({ id }).delete()) > 0,

    /**
     * Takes a row lock on the device for the rest of the transaction (PostgreSQL): `update` so that
     * concurrent prekey uploads for one device are counted one after the other, `share` so that a
     * bundle claim and a deletion of the device do not interleave. SQLite runs one write
     * transaction at a time already. False when the device is gone.
     */
    async lock(id: number, mode: 'update' | 'share' = 'update'): Promise<boolean> {
      const { rows } = await run(q, LOCK[isPostgres(q) ? mode : 'none'], [id])
      return rows.length > 0
    },

    /**
     * The account's devices by number, each locked for the rest of the transaction (PostgreSQL):
     * `send` as a send locks a device it queues for, `share` as a bundle claim does. Either way a
     * removal waits for this transaction, or this transaction sees the device gone. Rows are locked
     * in one order (by key), so that transactions locking several never wait for each other.
     */
    async lockAccount(userId: number, mode: 'send' | 'share'): Promise<DeviceRow[]> {
      const { rows } = await run<DeviceRow>(q, LOCK_ACCOUNT[isPostgres(q) ? mode : 'none'], [userId])
      return rows.sort((a, b) => a.device_id - b.device_id)
    },
  }
}
