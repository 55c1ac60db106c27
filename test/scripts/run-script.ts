import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export type Run = { code: number | null; stdout: string; stderr: string }

/**
 * Runs `scripts/<script>` as `npm run` would (through tsx), in its own process with only `env`
 * (plus PATH and HOME) set, `stdin` piped in (or closed); killed if it hangs.
 */
export function runScript(script: string, args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    timeout: 60_000,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  child.stdin.end(stdin)
  return new Promise((ok, fail) => {
    child.once('error', fail)
    child.once('close', (code) => ok({ code, stdout, stderr }))
  })
}

export const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '')
