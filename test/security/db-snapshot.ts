import type { FastifyInstance } from 'fastify'

// Every application table, in a stable order. A snapshot taken before and after a rejected request
// must be identical: a refusal changes nothing. Except `auth_failures`: counting a wrong password or
// code against the account is the one write a refusal is meant to make (plugins/lockout.ts). And
// a device's `last_seen_at`: the day a device that made a request was seen (plugins/auth.ts, at most
// one write a day, only for the caller's own device) is no change the request asked for, and it
// would turn at midnight UTC under a run that crosses it.
const TABLES = [
  'users',
  'sessions',
  'mfa_methods',
  'mfa_backup_codes',
  'devices',
  'signed_prekeys',
  'prekeys',
  'pq_prekeys',
  'pq_last_resort_prekeys',
  'messages',
  'used_tokens',
  'signing_counters',
  'provisioning_sockets',
]
const IGNORED: Record<string, string[]> = { devices: ['last_seen_at'] }

export type Snapshot = Record<string, unknown[]>

export async function snapshot(app: FastifyInstance): Promise<Snapshot> {
  const out: Snapshot = {}
  for (const table of TABLES) {
    const rows: Record<string, unknown>[] = await app.db.knex(table).select('*')
    for (const row of rows) for (const column of IGNORED[table] ?? []) delete row[column]
    out[table] = rows.map((r) => JSON.stringify(r)).sort()
  }
  return out
}

/** The tables whose rows differ between two snapshots, with a count of rows added and removed. */
export function diff(before: Snapshot, after: Snapshot): string[] {
  const changes: string[] = []
  for (const table of Object.keys(before)) {
    const a = new Set(before[table] as string[])
    const b = new Set(after[table] as string[])
    const added = [...b].filter((r) => !a.has(r)).length
    const removed = [...a].filter((r) => !b.has(r)).length
    if (added || removed) changes.push(`${table}: +${added} -${removed}`)
  }
  return changes
}

/** Rows that differ, counted over all tables. */
export const changedRows = (before: Snapshot, after: Snapshot) =>
  diff(before, after).reduce(
    (n, line) =>
      n +
      line
        .match(/\d+/g)!
        .slice(-2)
        .reduce((s, x) => s + Number(x), 0),
    0,
  )
