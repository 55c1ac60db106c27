import { existsSync, readFileSync } from 'node:fs'
import { errors } from './errors.js'

// The four validators of Django's default AUTH_PASSWORD_VALIDATORS, with the same thresholds and
// messages (UserAttributeSimilarity on the email only, since that is the one attribute we hold).

type PasswordRule = 'min_length' | 'numeric' | 'common' | 'similar_to_email'
export type PasswordViolation = { field: 'password'; message: string; rule: PasswordRule }

const MIN_LENGTH = 8
const MAX_SIMILARITY = 0.7

// Lengths and comparisons go by code point, as Python's str does, so an emoji counts as one character.
const chars = (s: string) => Array.from(s)

let commonPasswords: Set<string> | undefined

function isCommon(password: string): boolean {
  if (!commonPasswords) {
    // tsc does not copy the .txt into dist/, so when running from dist/lib/ read it from the source tree.
    let url = new URL('./common-passwords.txt', import.meta.url)
    if (!existsSync(url)) url = new URL('../../lib/common-passwords.txt', import.meta.url)
    const lines = readFileSync(url, 'utf8').split('\n')
    commonPasswords = new Set(lines.map((line) => line.trim()).filter(Boolean))
  }
  return commonPasswords.has(password.toLowerCase().trim())
}

/** Python's `SequenceMatcher(None, a, b).quick_ratio()`: an upper bound on ratio() that ignores order. */
export function quickRatio(a: string, b: string): number {
  const A = chars(a)
  const B = chars(b)
  const available = new Map<string, number>()
  for (const ch of B) available.set(ch, (available.get(ch) ?? 0) + 1)
  let matches = 0
  for (const ch of A) {
    const n = available.get(ch) ?? 0
    if (n > 0) matches++
    available.set(ch, n - 1)
  }
  const total = A.length + B.length
  return total ? (2 * matches) / total : 1
}

/** Python's `SequenceMatcher(None, a, b).ratio()` (Ratcliff/Obershelp), including its autojunk heuristic. */
export function sequenceRatio(a: string, b: string): number {
  const A = chars(a)
  const B = chars(b)
  if (A.length + B.length === 0) return 1
  const b2j = new Map<string, number[]>()
  B.forEach((ch, j) => {
    const positions = b2j.get(ch)
    if (positions) positions.push(j)
    else b2j.set(ch, [j])
  })
  // autojunk: in a b of 200+ items, elements making up more than 1% of it are not used to seed matches.
  if (B.length >= 200) {
    const limit = Math.floor(B.length / 100) + 1
    for (const [ch, positions] of b2j) if (positions.length > limit) b2j.delete(ch)
  }

  let matches = 0
  const queue: [number, number, number, number][] = [[0, A.length, 0, B.length]]
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop()!
    let [i, j, k] = [alo, blo, 0]
    let runs = new Map<number, number>()
    for (let x = alo; x < ahi; x++) {
      const next = new Map<number, number>()
      for (const y of b2j.get(A[x]!) ?? []) {
        if (y < blo) continue
        if (y >= bhi) break
        const run = (runs.get(y - 1) ?? 0) + 1
        next.set(y, run)
        if (run > k) [i, j, k] = [x - run + 1, y - run + 1, run]
      }
      runs = next
    }
    // Grow the match over equal elements the autojunk step kept out of b2j, as Python does.
    while (i > alo && j > blo && A[i - 1] === B[j - 1]) [i, j, k] = [i - 1, j - 1, k + 1]
    while (i + k < ahi && j + k < bhi && A[i + k] === B[j + k]) k++
    if (k === 0) continue
    matches += k
    if (alo < i && blo < j) queue.push([alo, i, blo, j])
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi])
  }
  return (2 * matches) / (A.length + B.length)
}

// Django's exceeds_maximum_length_ratio(): a part under a tenth of the password's length cannot
// reach the threshold, so it is skipped before any matching.
function partTooShort(password: string, part: string): boolean {
  const passwordLength = chars(password).length
  const partLength = chars(part).length
  return passwordLength >= 10 * partLength && partLength < (MAX_SIMILARITY / 2) * passwordLength
}

// Django compares with quick_ratio(), not ratio(), so a reordering of the email (e.g. "ecila" for
// "alice") counts as similar too.
function tooSimilarToEmail(password: string, email: string): boolean {
  if (!email) return false
  const lowered = password.toLowerCase()
  const value = email.toLowerCase()
  // Python's \W is Unicode-aware: anything but letters, digits and underscore.
  const parts = [...value.split(/[^\p{L}\p{N}_]+/u), value]
  return parts.some((part) => !partTooShort(lowered, part) && quickRatio(lowered, part) >= MAX_SIMILARITY)
}

/** Every rule the password breaks, in Django's default validator order; an empty array means it is acceptable. */
export function validatePassword(password: string, email: string): PasswordViolation[] {
  const violations: PasswordViolation[] = []
  const fail = (rule: PasswordRule, message: string) => violations.push({ field: 'password', rule, message })

  if (tooSimilarToEmail(password, email)) fail('similar_to_email', 'The password is too similar to the email.')
  if (chars(password).length < MIN_LENGTH) {
    fail('min_length', `This password is too short. It must contain at least ${MIN_LENGTH} characters.`)
  }
  if (isCommon(password)) fail('common', 'This password is too common.')
  // Python's str.isdigit(): non-empty and all decimal digits (any script).
  if (/^\p{Nd}+$/u.test(password)) fail('numeric', 'This password is entirely numeric.')
  return violations
}

/** Throws 400 `invalid_data` naming each password rule the new password breaks, under `body.<field>`. */
export function assertPasswordAllowed(password: string, email: string, field: string): void {
  const problems = validatePassword(password, email)
  if (problems.length) {
    throw errors.invalidData(
      problems.map((p) => ({ field: `body.${field}`, message: p.message })),
      'The password is not allowed.',
    )
  }
}
