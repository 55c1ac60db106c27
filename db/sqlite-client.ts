import { setTimeout as sleep } from 'node:timers/promises'
import { createRequire } from 'node:module'

// knex prepares every SQLite statement afresh, on every query; preparing costs as much as running
// the small queries this server makes. This client keeps each connection's prepared statements
// (a bounded number: statements with variable IN lists differ by their length) and is otherwise
// knex's own better-sqlite3 client, with two changes for a database file another process also
// writes (the CLI, a backup, a second server):
// - write transactions start with BEGIN IMMEDIATE, taking the write lock up front: a deferred
//   transaction that read first could not upgrade once another writer committed (SQLITE_BUSY mid-way);
// - a statement that finds the file locked is retried asynchronously until the acquire timeout
//   (DATABASE_TIMEOUT), because better-sqlite3's own wait (busy_timeout) blocks the whole event loop.
const require = createRequire(import.meta.url)
const BetterSqlite3Client: new (config: unknown) => object = require('knex/lib/dialects/better-sqlite3/index.js')
const SqliteTransaction: new (
  ...args: unknown[]
) => object = require('knex/lib/dialects/sqlite3/execution/sqlite-transaction.js')

/** How long one attempt may block the event loop waiting for a lock (SQLite's busy_timeout), in ms. */
export const SYNC_BUSY_WAIT_MS = 20

// The little of better-sqlite3 used here (it ships no types).
type Statement = {
  reader: boolean
  all(bindings: unknown[]): unknown[]
  /** Rows as arrays of the columns' values, in the statement's order (cheaper than objects). */
  raw(on: boolean): Statement
  run(bindings: unknown[]): { changes: number; lastInsertRowid: number | bigint }
}
export type Connection = { prepare(sql: string): Statement; inTransaction: boolean }

const MAX_CACHED = 256
const caches = new WeakMap<Connection, Map<string, Statement>>()

type QueryObject = { sql?: string; bindings?: unknown[]; options?: unknown; response?: unknown; context?: unknown }

const isBusy = (err: unknown) => /^SQLITE_BUSY/.test(String((err as { code?: unknown })?.code ?? ''))

class ImmediateTransaction extends SqliteTransaction {
  begin(conn: Connection) {
    return (this as unknown as { query(c: Connection, sql: string): Promise<unknown> }).query(conn, 'BEGIN IMMEDIATE;')
  }
}

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

/**
 * Runs `attempt` on `connection`, again after a pause while it finds the file locked by another
 * process, until `budgetMs` is spent. Inside a transaction a busy statement is not retried alone:
 * with BEGIN IMMEDIATE only the BEGIN itself can meet another writer's lock, and it runs outside one.
 */
export async function retryWhileBusy<R>(connection: Connection, budgetMs: number, attempt: () => R): Promise<R> {
  const retryable = !connection.inTransaction
  const deadline = Date.now() + budgetMs
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    try {
      return await attempt()
    } catch (err) {
      if (!retryable || !isBusy(err) || Date.now() + pause > deadline) throw err
      await sleep(pause)
    }
  }
}

/** How long a statement may wait for another process's lock: the client's acquire timeout (DATABASE_TIMEOUT). */
export const busyBudget = (client: unknown) =>
  (client as { config: { acquireConnectionTimeout?: number } }).config.acquireConnectionTimeout ?? 10_000

export class CachingSqliteClient extends BetterSqlite3Client {
  transaction(...args: unknown[]) {
    return new ImmediateTransaction(this, ...args)
  }

  async _query(connection: Connection, obj: QueryObject): Promise<QueryObject> {
    if (!obj.sql) throw new Error('The query is empty')
    if (!connection) throw new Error('No connection provided')
    return retryWhileBusy(connection, busyBudget(this), () => this.runOnce(connection, obj))
  }

  private runOnce(connection: Connection, obj: QueryObject): QueryObject | Promise<QueryObject> {
    const self = this as unknown as {
      _optSafeIntegers(o: unknown): boolean | undefined
      _formatBindings(b: unknown): unknown[]
    }
    // Per-query options: uncached.
    if (self._optSafeIntegers(obj.options) !== undefined) return super_query(this, connection, obj)
    const statement = cachedStatement(connection, obj.sql!)
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
