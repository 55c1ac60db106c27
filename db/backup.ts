import { existsSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'

// The little of better-sqlite3 used here (it ships no types).
type SqliteDatabase = {
  pragma(sql: string, options?: { simple: boolean }): unknown
  backup(file: string, options: { progress: () => number }): Promise<{ totalPages: number }>
  close(): void
}
const Database: new (file: string, options: { fileMustExist: boolean }) => SqliteDatabase = createRequire(
  import.meta.url,
)('better-sqlite3')

/**
 * Writes a consistent copy of the SQLite database at `source` to `out` while servers may write to
 * it: SQLite's online backup API, all pages in one step (a read transaction, so writers go on in
 * WAL mode and the copy is one instant's state), then `PRAGMA integrity_check` on the copy, which
 * is turned into a single self-contained file (no -wal). The copy appears at `out` only once
 * checked. Throws with a one-line reason on any failure.
 */
export async function backupSqlite(source: string, out: string): Promise<{ pages: number }> {
  if (!existsSync(source)) throw new Error(`no database at ${source}`)
  if (existsSync(out)) throw new Error(`${out} exists; not overwriting it`)
  const partial = `${out}.partial-${process.pid}`
  const removePartial = () => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(partial + suffix, { force: true })
  }
  try {
    const db = new Database(source, { fileMustExist: true })
    let pages = 0
    try {
      db.pragma('busy_timeout = 5000')
      const done = await db.backup(partial, {
        // After the first step, everything left in one: a copy restarted by a write is then whole.
        progress: () => 0x7fffffff,
      })
      pages = done.totalPages
    } finally {
      db.close()
    }
    const copy = new Database(partial, { fileMustExist: true })
    try {
      const result = copy.pragma('integrity_check', { simple: true })
      if (result !== 'ok') throw new Error(`the copy fails PRAGMA integrity_check: ${String(result).split('\n')[0]}`)
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
    renameSync(partial, out)
    return { pages }
  } catch (err) {
    removePartial()
    throw err
  }
}
