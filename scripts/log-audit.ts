// Searches the logs an `npm test` run captured (test/log-capture.ts) for every secret the suite sent
// or received. A secret counts as found when it appears as a whole token: not inside a longer run of
// base64 or digits, so a 6-digit code is not "found" inside a timestamp. A secret with a character
// that tokens never hold (a space, a quote: a JSON message, a password with a space) is found when
// each of its parts is a token and the log holds the whole secret as text; one without any part
// long enough to be a token cannot be searched for, and is counted as such, never as searched.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export type Audit = {
  /** Distinct secrets recorded, and how many each source recorded. */
  secrets: number
  bySource: Record<string, number>
  /** Sources that declared traffic (test/log-capture.ts's declareSource) but recorded no secret. */
  silent: string[]
  /** How the secrets were searched for: as whole tokens, by their parts, or not at all. */
  asTokens: number
  byParts: number
  unsearchable: number
  logBytes: number
  lines: number
  leaks: string[]
}

/** What log text is cut at: every character base64, JWTs and URLs do not use. */
const SEPARATORS = /[^A-Za-z0-9+/=._~-]+/
const MIN_TOKEN = 6

/** The tokens of a log's text, and of the JSON-escaped strings in it. */
function tokensOf(text: string, into: Set<string>): void {
  // JSON-escaped text first unescaped, then cut into tokens; then at an '=' that is not base64
  // padding (`name=value` in a query), and again at '/' and '.', so that a secret inside a path, a
  // query or a JWT is seen.
  for (const token of unescapeJson(text).split(SEPARATORS)) {
    if (token.length < MIN_TOKEN) continue
    for (const value of [token, ...token.split(/=(?=[^=])/)]) {
      into.add(value)
      for (const part of value.split(/[/.]+/)) {
        if (part.length < MIN_TOKEN) continue
        into.add(part)
        into.add(part.replace(/=+$/, ''))
      }
    }
  }
}

const unescapeJson = (text: string) => text.replace(/\\"/g, '"').replace(/\\\\/g, '\\')

export function auditLogs(dir: string): Audit {
  const files = existsSync(dir) ? readdirSync(dir).sort() : []
  const secrets = new Set<string>()
  const perSource = new Map<string, Set<string>>()
  for (const file of files.filter((f) => f.endsWith('.secrets'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue
      const [source, secret] = JSON.parse(line) as [string, string]
      secrets.add(secret)
      if (!perSource.has(source)) perSource.set(source, new Set())
      perSource.get(source)!.add(secret)
    }
  }
  const declared = new Set<string>()
  for (const file of files.filter((f) => f.endsWith('.sources')))
    for (const source of readFileSync(join(dir, file), 'utf8').split('\n')) if (source) declared.add(source)

  const logs = files.filter((f) => f.endsWith('.log')).map((f) => join(dir, f))
  let logBytes = 0
  let lines = 0
  const tokens = new Set<string>()
  for (const file of logs) {
    const text = readFileSync(file, 'utf8')
    logBytes += Buffer.byteLength(text)
    lines += text.split('\n').length - 1
    tokensOf(text, tokens)
  }
  const isToken = (s: string) => tokens.has(s) || tokens.has(s.replace(/=+$/, ''))

  const leaks: string[] = []
  const candidates: string[] = []
  let asTokens = 0
  let byParts = 0
  let unsearchable = 0
  for (const secret of secrets) {
    const parts = secret.split(SEPARATORS)
    if (parts.length === 1) {
      asTokens++
      if (isToken(secret)) leaks.push(secret)
      continue
    }
    const long = parts.filter((p) => p.length >= MIN_TOKEN)
    if (long.length === 0) {
      unsearchable++
      continue
    }
    byParts++
    if (long.every(isToken)) candidates.push(secret)
  }
  // Few secrets have all their parts in the logs; for those, the whole secret is looked for as text.
  if (candidates.length) {
    const texts = logs.map((file) => readFileSync(file, 'utf8'))
    for (const secret of candidates) {
      const escaped = JSON.stringify(secret).slice(1, -1)
      if (texts.some((text) => text.includes(escaped) || unescapeJson(text).includes(secret))) leaks.push(secret)
    }
  }
  const bySource = Object.fromEntries([...perSource].sort().map(([source, set]) => [source, set.size]))
  const silent = [...declared].filter((source) => !perSource.has(source)).sort()
  return { secrets: secrets.size, bySource, silent, asTokens, byParts, unsearchable, logBytes, lines, leaks }
}
