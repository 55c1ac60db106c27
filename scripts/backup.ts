// `npm run backup -- --out <file>`: a consistent, checked copy of the SQLite database of a running
// server (db/backup.ts). On PostgreSQL it says to use pg_dump and exits 2.
import { isPostgresUrl } from '../db/connection.js'
import { backupSqlite } from '../db/backup.js'
import { loadConfig } from '../lib/config.js'

const fail = (reason: string, code = 1): never => {
  console.error(`backup failed: ${reason}`)
  process.exit(code)
}

let databaseUrl = ''
try {
  databaseUrl = loadConfig().databaseUrl
} catch (err) {
  fail((err as Error).message)
}
if (isPostgresUrl(databaseUrl)) {
  console.error(
    'backup: DATABASE_URL is PostgreSQL, which this command does not copy; use pg_dump, e.g. ' +
      'pg_dump --format=custom --file=signal-server.dump "$DATABASE_URL" (see the README, "Backups")',
  )
  process.exit(2)
}
const args = process.argv.slice(2)
if (args.length !== 2 || args[0] !== '--out' || !args[1])
  fail(`usage: backup --out <file> (got ${args.join(' ') || 'nothing'})`)
if (databaseUrl === ':memory:') fail('DATABASE_URL is :memory:; there is nothing on disk to copy')
try {
  const { pages } = await backupSqlite(databaseUrl, args[1])
  console.log(`backed up ${databaseUrl} to ${args[1]} (${pages} pages; integrity_check ok)`)
} catch (err) {
  fail(String((err as Error).message).split('\n')[0])
}
