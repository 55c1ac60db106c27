import { createHash } from 'node:crypto'
import { isPostgres, type Queryable } from './dialect.js'
import { busyBudget, cachedStatement, retryWhileBusy, type Connection as SqliteConnection } from './sqlite-client.js'

// The hottest statements (the session check, the recipient look-up, queueing, reading and deleting
// messages) skip knex's query builder and runner: the profiles of `npm run bench -- --profile` put
// a third to a half of each request's server CPU in knex and in pg's handling of unnamed
// statements. A statement here runs on a connection of knex's own pool (or the transaction's,
// when `q` is one), so pooling, transactions and their locks are knex's as before:
// - PostgreSQL: a named prepared statement (pg parses it once per connection, then only binds);
// - SQLite: the connection's cached prepared statement (db/sqlite-client.ts).
// Each statement is written once with `?` placeholders and no `?` anywhere else in its text.

type PgConnection = {
  query(config: {
    name: string
    text: string
    values: unknown[]
    rowMode?: 'array'
  }): Promise<{ rows: unknown[]; rowCount: number | null }>
}
type KnexClient = {
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<unknown>
  emit(event: 'query', query: { sql: string; bindings: unknown[] }): boolean
}

export type Prepared = { sql: string; pgText: string; name: string; arrays: boolean }

/**
 * A statement for `run`, prepared on each connection on first use. `arrays`: its rows come back as
 * arrays of the selected columns, in order: building one object per row cost both drivers about as
 * much as the statement itself on a 20-message fetch (scripts/bench/hot-statements.ts).
 */
export function prepare(sql: string, { arrays = false } = {}): Prepared {
  let n = 0
  const text = sql.replace(/\s+/g, ' ').trim()
  return {
    sql: text,
    pgText: text.replace(/\?/g, () => `$${++n}`),
    name: `h_${createHash('sha256').update(`${arrays}${text}`).digest('hex').slice(0, 24)}`,
    arrays,
  }
}

/** Runs the statement with `values`: its rows (RETURNING included) and how many rows it changed. */
export async function run<R>(
  q: Queryable,
  statement: Prepared,
  values: unknown[],
): Promise<{ rows: R[]; changes: number }> {
  const client = q.client as unknown as KnexClient
  const connection = await client.acquireConnection()
  const postgres = isPostgres(q)
  // As knex announces its own queries (the scale check captures the hot statements this way).
  client.emit('query', { sql: postgres ? statement.pgText : statement.sql, bindings: values })
  try {
    if (postgres) {
      const result = await (connection as PgConnection).query({
        name: statement.name,
        text: statement.pgText,
        values,
        ...(statement.arrays && { rowMode: 'array' as const }),
      })
      return { rows: result.rows as R[], changes: result.rowCount ?? 0 }
    }
    const sqlite = connection as SqliteConnection
    // An `arrays` statement's text is its own, so setting raw mode cannot change another's rows.
    const prepared = cachedStatement(sqlite, statement.sql)
    if (statement.arrays) prepared.raw(true)
    const bindings = values.map((v) => (typeof v === 'boolean' ? Number(v) : v))
    // Another process holding the file's write lock: retried as knex's own statements are (sqlite-client.ts).
    return await retryWhileBusy(sqlite, busyBudget(q.client), () => {
      if (prepared.reader) {
        const rows = prepared.all(bindings) as R[]
        return { rows, changes: rows.length }
      }
      return { rows: [] as R[], changes: prepared.run(bindings).changes }
    })
  } finally {
    await client.releaseConnection(connection)
  }
}
