import { mkdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname } from 'node:path'
import knex, { type Knex } from 'knex'
import pg from 'pg'
import { migrationSource } from './migrations/index.js'
import { CachingSqliteClient, SYNC_BUSY_WAIT_MS } from './sqlite-client.js'

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url)
}

/** A knex instance for a `postgres://` URL or a SQLite file path (`:memory:` for a private in-memory database). */
export type DbLog = { warn(msg: string): void; error(msg: string): void }

/**
 * PostgreSQL connections for one instance. More than the cores lets queries from different requests
 * overlap their network waits; far more only adds contention inside PostgreSQL.
 */
const DEFAULT_POOL_MAX = Math.max(4, availableParallelism() * 2 + 1)

/** How long a query waits for the database by default (DATABASE_TIMEOUT); then it fails and the request is a 503. */
const DEFAULT_TIMEOUT_MS = 10_000

/**
 * `timeoutMs` bounds every wait for the database: for a pooled connection, for PostgreSQL to accept a
 * new one, and on SQLite for another process's write lock (retried without blocking the event loop,
 * see sqlite-client.ts). A query that cannot get the database within it fails with an error that
 * `isDatabaseUnavailable` recognises, instead of hanging the request.
 */
export function createKnex(
  databaseUrl: string,
  logger?: DbLog,
  poolMax = DEFAULT_POOL_MAX,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Knex {
  // knex prints to the console unless told otherwise; route it to the app's logger.
  const log = logger && {
    warn: (m: unknown) => logger.warn(String(m)),
    error: (m: unknown) => logger.error(String(m)),
    deprecate: (m: unknown) => logger.warn(String(m)),
    debug: () => {},
  }
  if (isPostgresUrl(databaseUrl)) {
    // Our bigints (ids, ms timestamps) stay below 2^53; numbers beat strings everywhere else.
    pg.types.setTypeParser(pg.types.builtins.INT8, Number)
    return knex({
      client: 'pg',
      // keepAlive: a connection whose peer vanished without a reset is found dead by the kernel, not never.
      connection: { connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, keepAlive: true },
      pool: { min: 0, max: poolMax },
      acquireConnectionTimeout: timeoutMs,
      log,
    })
  }
  if (databaseUrl !== ':memory:') mkdirSync(dirname(databaseUrl), { recursive: true })
  return knex({
    client: CachingSqliteClient as unknown as string,
    connection: { filename: databaseUrl },
    acquireConnectionTimeout: timeoutMs,
    useNullAsDefault: true,
    log,
    pool: {
      // SQLite enforces foreign keys only when asked, per connection; cascades depend on it.
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL')
        conn.pragma('synchronous = NORMAL')
        conn.pragma('foreign_keys = ON')
        // better-sqlite3 waits for a lock synchronously, holding up every request: wait briefly here,
        // and retry asynchronously up to the timeout (sqlite-client.ts).
        conn.pragma(`busy_timeout = ${SYNC_BUSY_WAIT_MS}`)
        // 32 MiB of page cache instead of 2: a large message table's index pages stay in memory.
        conn.pragma('cache_size = -32768')
        done(null, conn)
      },
    },
  })
}

export async function migrateLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource })
}
