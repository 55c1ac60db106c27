import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { validatePassword } from '../../lib/password-policy.js'
import { captureOutput, capturing, declareSource, recordSecret } from '../log-capture.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export type Run = { code: number | null; stdout: string; stderr: string }

let runs = 0

/**
 * Records, for the log audit, the secrets a script is given: the new user's password (from
 * NEW_USER_PASSWORD or standard input), keys and the passwords in connection URLs. A common
 * password (the policy's list: `password`, say) is no secret, and the refusal names the word.
 */
function recordInputs(env: Record<string, string>, stdin: string): void {
  declareSource('spawned')
  const passwords = [env.NEW_USER_PASSWORD, ...stdin.split(/\r?\n/)]
  for (const p of passwords)
    if (p && !validatePassword(p, '').some((v) => v.rule === 'common')) recordSecret(p, 'spawned')
  for (const name of ['SECRET_KEY', 'DJANGO_SECRET_KEY', 'EMAIL_HOST_PASSWORD', 'METRICS_TOKEN'])
    if (env[name]) recordSecret(env[name], 'spawned')
  for (const name of ['DATABASE_URL', 'REDIS_URL']) {
    try {
      const password = decodeURIComponent(new URL(env[name] ?? '').password)
      if (password) recordSecret(password, 'spawned')
    } catch {
      // a file path (SQLite) or nothing: no password in it
    }
  }
}

/**
 * Runs `scripts/<script>` as `npm run` would (through tsx), in its own process with only `env`
 * (plus PATH and HOME) set, `stdin` piped in (or closed); killed if it hangs.
 *
 * Under `npm test` the script also gets LOG_LEVEL=trace (unless `env` sets LOG_LEVEL), all it
 * prints goes to a log file of its own in the capture directory, and its secret inputs are
 * recorded. The scripts print only their result or failure line (LOG_LEVEL is read and validated,
 * but they write no log), so stdout and stderr, which the tests assert on, are the same as without.
 */
export function runScript(script: string, args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      ...(capturing ? { LOG_LEVEL: 'trace' } : {}),
      ...env,
    },
    timeout: 60_000,
  })
  if (capturing) recordInputs(env, stdin)
  const output = captureOutput(child, `script-${script}-${++runs}`)
  child.stdin.end(stdin)
  return new Promise((ok, fail) => {
    child.once('error', fail)
    child.once('close', (code) => ok({ code, ...output }))
  })
}

export const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')
