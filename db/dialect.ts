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
