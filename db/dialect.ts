import type { Knex } from 'knex'

// What differs between PostgreSQL and SQLite, in one place: the repositories ask here, never knex's config.

/** A connection pool or a transaction: repositories run on either. */
export type Queryable = Knex | Knex.Transaction

export const isPostgres = (q: Queryable): boolean => q.client.config.client === 'pg'

/** The rows of a raw statement: pg wraps them in a result object, better-sqlite3 hands them over bare. */
export const rowsOf = <R>(result: unknown): R[] => (Array.isArray(result) ? result : (result as { rows: R[] }).rows)

/** The id an `insert(...).returning('id')` produced: an object on PostgreSQL, the bare value on SQLite. */
export function insertedId(inserted: unknown): number {
  return Number(typeof inserted === 'object' && inserted !== null ? (inserted as { id: unknown }).id : inserted)
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

// SQLite's codes for a database another connection holds locked (extended codes start the same), and for
// a file that cannot be opened or read.
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|PROTOCOL)/
// PostgreSQL's SQLSTATEs for a server going away or refusing: class 08 (connection exception), 57P01-57P03
// (shut down, crashed, not yet accepting), 53300 (too many connections).
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/
// The socket errors of a connection refused, cut or unanswered, as Node names them.
const NETWORK_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * Whether an error means the database could not be used right now (as opposed to a query that is
 * wrong): an unreachable or restarting PostgreSQL, a connection cut mid-query, no pooled connection
 * within the timeout, or a SQLite file another process kept locked. Those answer 503, never 4xx or 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (SQLITE_UNAVAILABLE.test(code) || PG_UNAVAILABLE.test(code) || NETWORK_UNAVAILABLE.has(code)) return true
  // knex: no connection from the pool within acquireConnectionTimeout.
  if (e.name === 'KnexTimeoutError') return true
  // pg: the server closed the connection, or it could not be opened in time. These carry no code, and
  // knex puts the failed statement before pg's message.
  const message = typeof e.message === 'string' ? e.message : ''
  if (/Connection terminated|timeout expired|not queryable|^Unable to acquire a connection/.test(message)) return true
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause)
}
