import { isPostgres, type Queryable } from './dialect.js'
import { type Prepared, prepare, run } from './driver.js'
import type { KyberPreKey, PreKey, SignedPreKey } from '../lib/key-checks.js'

/** One-time keys: `ec` are the Curve25519 prekeys, `pq` the Kyber ones, which also carry a signature. */
export type OneTimeKind = 'ec' | 'pq'
type OneTimeKey<K extends OneTimeKind> = K extends 'pq' ? KyberPreKey : PreKey
const TABLE = { ec: 'prekeys', pq: 'pq_prekeys' } as const

function toRow(deviceId: number, k: PreKey | KyberPreKey) {
  return {
    device_id: deviceId,
    key_id: k.keyId,
    public_key: k.publicKey,
    ...('signature' in k && { signature: k.signature }),
  }
}

function fromRow(row: { key_id: number; public_key: string; signature?: string }) {
  return {
    keyId: row.key_id,
    publicKey: row.public_key,
    ...(row.signature !== undefined && { signature: row.signature }),
  }
}

// A bundle claim's statements, on every bundle: prepared (db/driver.ts).
type KeyRow = { key_id: number; public_key: string; signature?: string }
/** Deletes and returns the device's oldest one-time key of a kind, per engine. */
const CLAIMS = new Map<string, Prepared>()
function claimStatement(kind: OneTimeKind, pg: boolean): Prepared {
  const key = `${kind}${pg}`
  let statement = CLAIMS.get(key)
  if (!statement) {
    const table = TABLE[kind]
    const columns = kind === 'pq' ? 'key_id, public_key, signature' : 'key_id, public_key'
    const lock = pg ? ' FOR UPDATE SKIP LOCKED' : ''
    const oldest = `SELECT id FROM ${table} WHERE device_id = ? ORDER BY key_id LIMIT 1${lock}`
    statement = prepare(`DELETE FROM ${table} WHERE id = (${oldest}) RETURNING ${columns}`)
    CLAIMS.set(key, statement)
  }
  return statement
}
const COUNT_CLAIM = prepare(`INSERT INTO prekey_claims (device_id, claims, window_started_at) VALUES (?, 1, ?)
  ON CONFLICT (device_id) DO UPDATE SET
    claims = CASE WHEN prekey_claims.window_started_at <= ? THEN 1 ELSE prekey_claims.claims + 1 END,
    window_started_at = CASE WHEN prekey_claims.window_started_at <= ? THEN ?
      ELSE prekey_claims.window_started_at END
  RETURNING claims`)
const SIGNED_PREKEY = prepare('SELECT key_id, public_key, signature FROM signed_prekeys WHERE device_id = ?')
const LAST_RESORT = prepare('SELECT key_id, public_key, signature FROM pq_last_resort_prekeys WHERE device_id = ?')

export function keysRepository(q: Queryable) {
  return {
    async countOneTime(kind: OneTimeKind, deviceId: number): Promise<number> {
      const row = await q(TABLE[kind]).where({ device_id: deviceId }).count({ n: '*' }).first()
      return Number(row?.n ?? 0)
    },

    async existingKeyIds(kind: OneTimeKind, deviceId: number, keyIds: number[]): Promise<number[]> {
      const rows = await q(TABLE[kind]).select('key_id').where({ device_id: deviceId }).whereIn('key_id', keyIds)
      return rows.map((r: { key_id: number }) => r.key_id)
    },

    insertOneTime: <K extends OneTimeKind>(kind: K, deviceId: number, keys: OneTimeKey<K>[]) =>
      q.batchInsert(
        TABLE[kind],
        keys.map((k) => toRow(deviceId, k)),
        200,
      ),

    /**
     * Deletes and returns one one-time key of the device in a single statement. On PostgreSQL,
     * SKIP LOCKED lets concurrent claims each take a different row instead of queueing on one;
     * SQLite serialises writers, so the plain sub-select is already atomic there.
     */
    async claimOneTime<K extends OneTimeKind>(kind: K, deviceId: number): Promise<OneTimeKey<K> | undefined> {
      const [row] = (await run<KeyRow>(q, claimStatement(kind, isPostgres(q)), [deviceId])).rows
      return row && (fromRow(row) as OneTimeKey<K>)
    },

    /**
     * Counts one bundle handed out for the device in the window that started at the first (a new
     * window once `windowMs` has passed), in one statement, so concurrent claims each get their own
     * number; returns it. Run on its own, not inside the claim's transaction: nothing waits on it.
     */
    async countClaim(deviceId: number, now: number, windowMs: number): Promise<number> {
      const stale = now - windowMs
      const { rows } = await run<{ claims: number }>(q, COUNT_CLAIM, [deviceId, now, stale, stale, now])
      return Number(rows[0].claims)
    },

    async getSignedPreKey(deviceId: number): Promise<SignedPreKey | undefined> {
      const [row] = (await run<KeyRow>(q, SIGNED_PREKEY, [deviceId])).rows
      return row && (fromRow(row) as SignedPreKey)
    },

    replaceSignedPreKey: (deviceId: number, k: SignedPreKey) =>
      q('signed_prekeys')
        .insert(toRow(deviceId, k))
        .onConflict('device_id')
        .merge(['key_id', 'public_key', 'signature']),

    async getLastResort(deviceId: number): Promise<KyberPreKey | undefined> {
      const [row] = (await run<KeyRow>(q, LAST_RESORT, [deviceId])).rows
      return row && (fromRow(row) as KyberPreKey)
    },

    replaceLastResort: (deviceId: number, k: KyberPreKey) =>
      q('pq_last_resort_prekeys')
        .insert(toRow(deviceId, k))
        .onConflict('device_id')
        .merge(['key_id', 'public_key', 'signature']),
  }
}
