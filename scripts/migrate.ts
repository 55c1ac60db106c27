// `npm run migrate [-- up|down|status]` (`latest` and `rollback` are the same as up and down):
// runs the migrations against DATABASE_URL (or the default SQLite file) and exits non-zero on any
// failure. `down` undoes the last batch, i.e. what the last `up` applied.
import { migrationSource } from '../db/migrations/index.js'
import { CliError, runCli } from './cli.js'

const ACTIONS: Record<string, 'up' | 'down' | 'status'> = {
  up: 'up',
  latest: 'up',
  down: 'down',
  rollback: 'down',
  status: 'status',
}
const action = process.argv[2] ?? 'up'

await runCli(
  `migrate ${action}`,
  async (_config, db) => {
    if (ACTIONS[action] === 'up') {
      const [, done] = await db.migrate.latest({ migrationSource })
      console.log(done.length ? `applied: ${done.join(', ')}` : 'already up to date')
    } else if (ACTIONS[action] === 'down') {
      const [, undone] = await db.migrate.rollback({ migrationSource })
      console.log(undone.length ? `rolled back: ${undone.join(', ')}` : 'nothing to roll back')
    } else {
      const [done, pending] = await db.migrate.list({ migrationSource })
      console.log(`applied: ${done.map((m: { name: string }) => m.name).join(', ') || 'none'}`)
      const names = pending.map((m: string | { file: string }) => (typeof m === 'string' ? m : m.file))
      console.log(`pending: ${names.join(', ') || 'none'}`)
    }
  },
  () => {
    if (!Object.hasOwn(ACTIONS, action)) throw new CliError(`unknown action "${action}"; use up, down or status`)
  },
)
