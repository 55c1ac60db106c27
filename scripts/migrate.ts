// `npm run migrate [latest|rollback|status]`: runs the migrations against DATABASE_URL (or the
// default SQLite file) and exits non-zero on any failure.
import { createKnex } from '../db/connection.js'
import { migrationSource } from '../db/migrations/index.js'
import { ConfigError, loadConfig } from '../plugins/config.js'

const ACTIONS = ['latest', 'rollback', 'status']
const action = process.argv[2] ?? 'latest'

// knex's own warnings: a connection failure is already stated by the one `failed:` line below, so
// its multi-line copy (with stack) is dropped; anything else is kept, on one line.
const log = {
  warn: (m: string) => {
    if (!m.startsWith('Acquire connection error')) console.warn(`warning: ${m.split('\n')[0]}`)
  },
  error: (m: string) => console.error(m.split('\n')[0]),
}

let code = 0
try {
  // Checked before connecting, so a typo does not create an empty SQLite file.
  if (!ACTIONS.includes(action)) throw new ConfigError(`unknown action "${action}"; use ${ACTIONS.join(', ')}`)
  const config = loadConfig()
  const db = createKnex(config.databaseUrl, log)
  try {
    if (action === 'latest') {
      const [, done] = await db.migrate.latest({ migrationSource })
      console.log(done.length ? `applied: ${done.join(', ')}` : 'already up to date')
    } else if (action === 'rollback') {
      const [, undone] = await db.migrate.rollback({ migrationSource })
      console.log(undone.length ? `rolled back: ${undone.join(', ')}` : 'nothing to roll back')
    } else if (action === 'status') {
      const [done, pending] = await db.migrate.list({ migrationSource })
      console.log(`applied: ${done.map((m: { name: string }) => m.name).join(', ') || 'none'}`)
      console.log(`pending: ${pending.map((m: string | { file: string }) => (typeof m === 'string' ? m : m.file)).join(', ') || 'none'}`)
    }
  } finally {
    await db.destroy()
  }
} catch (err) {
  console.error(`migrate ${action} failed: ${(err as Error).message}`)
  code = 1
}
process.exit(code)
