// What the operations commands (migrate, purge-expired, create-user) share: the server's own
// configuration (lib/config.ts, so DATABASE_URL and the rest apply the same way), one line on
// stderr for any failure, and the exit code.
import type { Knex } from 'knex'
import { createKnex } from '../db/connection.js'
import { loadConfig, type Config } from '../lib/config.js'

/** A failure the operator can fix; its message is the whole story (no stack). */
export class CliError extends Error {
  override name = 'CliError'
}

// knex's own warnings: a connection failure is already stated by the one `failed:` line, so its
// multi-line copy (with stack) is dropped; anything else is kept, on one line.
const knexLog = {
  warn: (m: string) => {
    if (!m.startsWith('Acquire connection error')) console.warn(`warning: ${m.split('\n')[0]}`)
  },
  error: (m: string) => console.error(m.split('\n')[0]),
}

/**
 * Runs `task` with the loaded config and a database connection (closed afterwards), then exits:
 * 0 on success, 1 with `<name> failed: <reason>` on stderr otherwise. `check` runs before anything
 * connects, so a usage error creates no SQLite file.
 */
export async function runCli(
  name: string,
  task: (config: Config, db: Knex) => Promise<void>,
  check: () => void = () => {},
): Promise<never> {
  let code = 0
  try {
    check()
    const config = loadConfig()
    const db = createKnex(config.databaseUrl, knexLog)
    try {
      await task(config, db)
    } finally {
      await db.destroy()
    }
  } catch (err) {
    // Only the first line: database errors may carry the SQL (and its values) after it.
    console.error(`${name} failed: ${String((err as Error).message).split('\n')[0]}`)
    code = 1
  }
  process.exit(code)
}
