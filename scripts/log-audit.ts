// Searches the logs an `npm test` run captured (test/log-capture.ts) for every secret the suite sent
// or received. A secret counts as found when it appears as a whole token: not inside a longer run of
// base64 or digits, so a 6-digit code is not "found" inside a timestamp.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export type Audit = { secrets: number; logBytes: number; lines: number; leaks: string[] }

export function auditLogs(dir: string): Audit {
  const files = existsSync(dir) ? readdirSync(dir) : []
  const secrets = new Set<string>()
  for (const f of files.filter((f) => f.endsWith('.secrets'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) secrets.add(JSON.parse(line) as string)
  }
  let logBytes = 0
  let lines = 0
  const tokens = new Set<string>()
  for (const f of files.filter((f) => f.endsWith('.log'))) {
    const text = readFileSync(join(dir, f), 'utf8')
    logBytes += Buffer.byteLength(text)
    lines += text.split('\n').length - 1
    // JSON-escaped text first unescaped, then cut into tokens at every character base64, JWTs and
    // URLs do not use; then at an '=' that is not base64 padding (`name=value` in a query), and
    // again at '/' and '.', so that a secret inside a path, a query or a JWT is seen.
    const plain = text.replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    for (const token of plain.split(/[^A-Za-z0-9+/=._~-]+/)) {
      if (token.length < 6) continue
      for (const value of [token, ...token.split(/=(?=[^=])/)]) {
        tokens.add(value)
        for (const part of value.split(/[/.]+/))
          if (part.length >= 6) tokens.add(part), tokens.add(part.replace(/=+$/, ''))
      }
    }
  }
  const leaks = [...secrets].filter((s) => tokens.has(s) || tokens.has(s.replace(/=+$/, '')))
  return { secrets: secrets.size, logBytes, lines, leaks }
}
