import { createRequire } from 'node:module'

// knex prepares every SQLite statement afresh, on every query; preparing costs as much as running
// the small queries this server makes. This client keeps each connection's prepared statements
// (a bounded number: statements with variable IN lists differ by their length) and is otherwise
// knex's own better-sqlite3 client.
const require = createRequire(import.meta.url)
const BetterSqlite3Client: new (config: unknown) => object = require('knex/lib/dialects/better-sqlite3/index.js')

// The little of better-sqlite3 used here (it ships no types).
type Statement = {
  reader: boolean
  all(bindings: unknown[]): unknown[]
  run(bindings: unknown[]): { changes: number; lastInsertRowid: number | bigint }
}
export type Connection = { prepare(sql: string): Statement }

const MAX_CACHED = 256
const caches = new WeakMap<Connection, Map<string, Statement>>()

type QueryObject = { sql?: string; bindings?: unknown[]; options?: unknown; response?: unknown; context?: unknown }

/** The connection's prepared statement for `sql`, prepared on first use and kept (at most MAX_CACHED). */
export function cachedStatement(connection: Connection, sql: string): Statement {
  let cache = caches.get(connection)
  if (!cache) {
    cache = new Map()
    caches.set(connection, cache)
  }
  let statement = cache.get(sql)
  if (!statement) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
    statement = connection.prepare(sql)
    cache.set(sql, statement)
  }
  return statement
}

export class CachingSqliteClient extends BetterSqlite3Client {
  async _query(connection: Connection, obj: QueryObject): Promise<QueryObject> {
    if (!obj.sql) throw new Error('The query is empty')
    if (!connection) throw new Error('No connection provided')
    const self = this as unknown as {
      _optSafeIntegers(o: unknown): boolean | undefined
      _formatBindings(b: unknown): unknown[]
    }
    // Per-query options: uncached.
    if (self._optSafeIntegers(obj.options) !== undefined) return super_query(this, connection, obj)
    const statement = cachedStatement(connection, obj.sql)
    const bindings = self._formatBindings(obj.bindings)
    if (statement.reader) {
      obj.response = statement.all(bindings)
      return obj
    }
    const response = statement.run(bindings)
    obj.response = response
    obj.context = { lastID: response.lastInsertRowid, changes: response.changes }
    return obj
  }
}

const super_query = (client: object, connection: Connection, obj: QueryObject) =>
  (
    BetterSqlite3Client.prototype as unknown as { _query(c: Connection, o: QueryObject): Promise<QueryObject> }
  )._query.call(client, connection, obj)
