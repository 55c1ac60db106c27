import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'

// Under `npm test`, LOG_CAPTURE_DIR is set: every app the suite builds logs at `trace` into one file
// per test process (spawned servers into files of their own), and every secret the suite sends or
// receives (passwords, tokens, codes, keys, signatures, ciphertext) is written beside it, with the
// source that saw it. scripts/log-audit.ts then searches the logs for them. A source declares itself
// where its traffic starts, not where it records: one that sends but records nothing fails the audit.
const dir = process.env.LOG_CAPTURE_DIR
let stream: WriteStream | undefined
const seen = new Set<string>()
const declared = new Set<Source>()

export const capturing = dir !== undefined

/** Where a secret was seen: the helper's client, the SDK, the fuzzer, sockets, the browser test, spawned servers. */
const SOURCES = ['helper', 'sdk', 'fuzz', 'socket', 'e2e', 'spawned'] as const
export type Source = (typeof SOURCES)[number]

export function logStream(): WriteStream | undefined {
  if (!dir) return undefined
  if (!stream) {
    mkdirSync(dir, { recursive: true })
    stream = createWriteStream(join(dir, `${process.pid}.log`), { flags: 'a' })
  }
  return stream
}

/** A log file in the capture directory for a process the suite spawns (undefined when not capturing). */
export function spawnedLogStream(name: string): WriteStream | undefined {
  if (!dir) return undefined
  mkdirSync(dir, { recursive: true })
  return createWriteStream(join(dir, `${process.pid}-${name.replace(/[^\w.-]/g, '_')}.log`), { flags: 'a' })
}

type Output = { on(event: 'data', listener: (chunk: Buffer | string) => void): unknown }
type Spawned = { stdout: Output; stderr: Output; once(event: 'close' | 'error', listener: () => void): unknown }

/**
 * Collects what a spawned process prints, and copies it into a log file of its own in the capture
 * directory (`name`); read the text once the process has closed.
 */
export function captureOutput(child: Spawned, name: string): { stdout: string; stderr: string } {
  const log = spawnedLogStream(name)
  const output = { stdout: '', stderr: '' }
  for (const which of ['stdout', 'stderr'] as const) {
    child[which].on('data', (chunk) => {
      output[which] += chunk
      log?.write(chunk)
    })
  }
  child.once('close', () => log?.end())
  child.once('error', () => log?.end())
  return output
}

/** This test process sends traffic through `source`: the audit fails if that source then recorded no secret. */
export function declareSource(source: Source): void {
  if (!dir || declared.has(source)) return
  declared.add(source)
  mkdirSync(dir, { recursive: true })
  appendFileSync(join(dir, `${process.pid}.sources`), `${source}\n`)
}

const SECRET_FIELDS = new Set([
  'password',
  'new_password',
  're_new_password',
  'current_password',
  'currentPassword',
  'auth_token',
  'ephemeral_token',
  'token',
  'code',
  'backup_codes',
  'qr_link',
  'identityKey',
  'publicKey',
  'signature',
  'signingKey',
  'digest',
  'message',
  'content',
])

function remember(value: string, source: Source): void {
  const key = `${source} ${value}`
  if (!dir || value.length < 6 || seen.has(key)) return
  seen.add(key)
  mkdirSync(dir, { recursive: true })
  appendFileSync(join(dir, `${process.pid}.secrets`), JSON.stringify([source, value]) + '\n')
}

// In answers, `code` and `message` strings are the status or error's name and text, not secrets
// (a socket's message frame carries the message object under `message`: that one is walked).
const NOT_SECRET_IN_ANSWERS = new Set(['code', 'message'])

function walk(value: unknown, answer: boolean, source: Source, field?: string): void {
  if (typeof value === 'string') {
    if (field === undefined || !SECRET_FIELDS.has(field) || (answer && NOT_SECRET_IN_ANSWERS.has(field))) return
    remember(value, source)
    if (field === 'qr_link') remember(new URL(value).searchParams.get('secret') ?? '', source)
    // A message is JSON around base64 ciphertext: the ciphertext alone must not show up either.
    for (const run of value.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? [])
      if (field === 'message' || field === 'content') remember(run, source)
  } else if (typeof value === 'number') {
    if (field === 'code' && !answer) remember(String(value).padStart(6, '0'), source)
  } else if (Array.isArray(value)) {
    for (const item of value) walk(item, answer, source, field)
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walk(v, answer, source, k)
  }
}

/** Records one secret that travels outside a request (a spawned server's SECRET_KEY, say). */
export function recordSecret(value: string, source: Source): void {
  remember(value, source)
}

/** Records the secret values in a request body or (with `answer`) an answer or frame, at any depth. */
export function recordSecrets(value: unknown, answer = false, source: Source = 'helper'): void {
  if (dir) walk(value, answer, source)
}

/**
 * Records the credential of a request (its Authorization header without the scheme, a reset link's
 * token in the path) and declares `source`: every request through a recording client passes here.
 */
export function recordRequestSecrets(
  url: string,
  headers: Record<string, string | string[] | undefined>,
  source: Source = 'helper',
): void {
  if (!dir) return
  declareSource(source)
  const auth = headers.authorization
  for (const value of Array.isArray(auth) ? auth : [auth])
    if (typeof value === 'string') remember(value.replace(/^\S+\s+/, '').trim(), source)
  const reset = /\/auth\/(?:password\/reset\/confirm|activate)\/([^/?]+)\/([^/?]+)/.exec(url)
  if (reset) {
    try {
      remember(decodeURIComponent(reset[2]), source)
    } catch {
      remember(reset[2], source) // not percent-encoding (the fuzzer sends such paths): as it stands
    }
  }
}

/**
 * Records what a message socket carries: the credentials it offers (its Authorization header, its
 * subprotocol entries) and every frame the server sends it.
 */
export function recordSocket(
  ws: { on(event: 'message', listener: (data: Buffer) => void): unknown },
  url: string,
  headers: Record<string, string>,
  protocols: string[] = [],
): void {
  if (!dir) return
  recordRequestSecrets(new URL(url).pathname, headers, 'socket')
  for (const entry of protocols) {
    const credential = /^(?:bearer|signature\.\d+)\.(.+)$/.exec(entry)?.[1]
    if (credential) remember(credential, 'socket')
  }
  ws.on('message', (data) => {
    try {
      recordSecrets(JSON.parse(data.toString()), true, 'socket')
    } catch {
      // not JSON: the socket's own test refuses the frame
    }
  })
}
