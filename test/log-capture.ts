import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'

// Under `npm test`, LOG_CAPTURE_DIR is set: every app the suite builds logs at `trace` into one file
// per test process, and every secret the suite sends or receives (passwords, tokens, codes, keys,
// signatures, ciphertext) is written beside it. scripts/log-audit.ts then searches the logs for them.
const dir = process.env.LOG_CAPTURE_DIR
let stream: WriteStream | undefined
const seen = new Set<string>()

export const capturing = dir !== undefined

export function logStream(): WriteStream | undefined {
  if (!dir) return undefined
  if (!stream) {
    mkdirSync(dir, { recursive: true })
    stream = createWriteStream(join(dir, `${process.pid}.log`), { flags: 'a' })
  }
  return stream
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

function remember(value: string): void {
  if (!dir || value.length < 6 || seen.has(value)) return
  seen.add(value)
  appendFileSync(join(dir, `${process.pid}.secrets`), JSON.stringify(value) + '\n')
}

// In answers, `code` and `message` are the status or error's name and text, not secrets.
const NOT_SECRET_IN_ANSWERS = new Set(['code', 'message'])

/** Records the secret values in a request body or an answer (any depth). */
export function recordSecrets(value: unknown, answer = false, field?: string): void {
  if (!dir) return
  if (field !== undefined && answer && NOT_SECRET_IN_ANSWERS.has(field)) return
  if (typeof value === 'string') {
    if (field === undefined || !SECRET_FIELDS.has(field)) return
    remember(value)
    if (field === 'qr_link') remember(new URL(value).searchParams.get('secret') ?? '')
    // A message is JSON around base64 ciphertext: the ciphertext alone must not show up either.
    for (const run of value.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? [])
      if (field === 'message' || field === 'content') remember(run)
  } else if (typeof value === 'number') {
    if (field === 'code') remember(String(value).padStart(6, '0'))
  } else if (Array.isArray(value)) {
    for (const item of value) recordSecrets(item, answer, field)
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) recordSecrets(v, answer, k)
  }
}

export function recordRequestSecrets(url: string, headers: Record<string, string | string[] | undefined>): void {
  if (!dir) return
  const auth = headers.authorization
  if (typeof auth === 'string') remember(auth.replace(/^\S+\s+/, '').trim())
  const reset = /\/auth\/password\/reset\/confirm\/([^/?]+)\/([^/?]+)/.exec(url)
  if (reset) remember(decodeURIComponent(reset[2]))
}
