// What "every operation exercised" means for `npm test`: per operation and database, the suite saw
// at least one documented success (a 2xx, or the 101 of the WebSocket upgrade) and every documented
// error status. test/spec-check.ts records each (operationId, status) pair a test process received
// into OPERATION_COVERAGE_DIR/<database>/<pid>.json; this compares them with openapi.yaml. A
// documented answer no test produced is a miss, and a miss fails the run unless the accepted-gaps
// file (test/coverage-gaps.yaml) lists it with the reason no test can reasonably produce it. An
// entry there that names no documented answer, or one the suite produced on every database after
// all, fails the run too, so the file cannot go stale.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { spec as contract } from '../lib/spec.js'

type Json = Record<string, any>

/** The documented statuses of one operation, split into successes (one is enough) and errors (each one). */
export type Documented = { operationId: string; success: string[]; errors: string[] }
/** A documented answer the suite did not produce: one error status, or every success (`200|201`). */
export type Miss = { operationId: string; status: string }
/** An accepted gap: `operationId status` (on every database) or `operationId status on <database>`. */
export type Gap = Miss & { database?: string; reason: string }

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']

/** Every operation of the spec with its documented statuses; `default` and ranges like `4XX` require nothing. */
export function documentedAnswers(spec: Json): Documented[] {
  const out: Documented[] = []
  for (const item of Object.values<Json>(spec.paths ?? {}))
    for (const method of METHODS.filter((m) => item[m])) {
      const statuses = Object.keys(item[method].responses ?? {}).filter((s) => /^[1-5]\d\d$/.test(s))
      out.push({
        operationId: item[method].operationId,
        success: statuses.filter((s) => Number(s) < 400),
        errors: statuses.filter((s) => Number(s) >= 400),
      })
    }
  return out
}

/** The misses of one database's run: `seen` holds `operationId status` pairs. */
export function findMisses(documented: Documented[], seen: ReadonlySet<string>): Miss[] {
  const misses: Miss[] = []
  for (const { operationId, success, errors } of documented) {
    if (success.length && !success.some((s) => seen.has(`${operationId} ${s}`)))
      misses.push({ operationId, status: success.join('|') })
    for (const s of errors) if (!seen.has(`${operationId} ${s}`)) misses.push({ operationId, status: s })
  }
  return misses
}

/** The accepted gaps from the file's text: a map of `operationId status [on database]` to a reason. */
export function parseGaps(text: string): Gap[] {
  const entries = Object.entries<unknown>(parse(text) ?? {})
  return entries.map(([key, reason]) => {
    const m = /^(\S+) (\S+)(?: on (\S+))?$/.exec(key)
    if (!m)
      throw new Error(`accepted gap "${key}": write it as "operationId status" or "operationId status on database"`)
    if (typeof reason !== 'string' || reason.trim().length < 10)
      throw new Error(`accepted gap "${key}": give the reason no test produces it`)
    return { operationId: m[1], status: m[2], ...(m[3] && { database: m[3] }), reason: reason.trim() }
  })
}

const pairOf = (m: Miss) => `${m.operationId} ${m.status}`
const applies = (g: Gap, database: string) => g.database === undefined || g.database === database

export type Verdict = {
  /** Per database: documented answers (one per error status, one per operation for success) and misses. */
  databases: { database: string; answers: number; misses: Miss[]; accepted: Miss[]; unaccepted: Miss[] }[]
  /** Entries of the gaps file that name no documented answer, or that every database produced. */
  stale: { gap: Gap; why: string }[]
}

/** The gate itself: pure, from the spec's answers, the pairs each database saw and the accepted gaps. */
export function judge(documented: Documented[], seenBy: Record<string, ReadonlySet<string>>, gaps: Gap[]): Verdict {
  const answers = documented.reduce((n, d) => n + d.errors.length + (d.success.length ? 1 : 0), 0)
  const databases = Object.entries(seenBy).map(([database, seen]) => {
    const misses = findMisses(documented, seen)
    const isAccepted = (m: Miss) => gaps.some((g) => applies(g, database) && pairOf(g) === pairOf(m))
    return {
      database,
      answers,
      misses,
      accepted: misses.filter(isAccepted),
      unaccepted: misses.filter((m) => !isAccepted(m)),
    }
  })
  const possible = new Set(findMisses(documented, new Set()).map(pairOf))
  const stale: Verdict['stale'] = []
  for (const gap of gaps) {
    if (!possible.has(pairOf(gap))) stale.push({ gap, why: 'is not a documented answer of openapi.yaml' })
    else {
      const ran = databases.filter((d) => applies(gap, d.database))
      if (ran.length && ran.every((d) => !d.misses.some((m) => pairOf(m) === pairOf(gap))))
        stale.push({ gap, why: `was produced on ${ran.map((d) => d.database).join(' and ')}: remove it` })
    }
  }
  return { databases, stale }
}

/** The `operationId status` pairs the test processes of one database wrote. */
export function readSeen(dir: string): Set<string> {
  const seen = new Set<string>()
  for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : [])
    for (const pair of JSON.parse(readFileSync(join(dir, f), 'utf8')) as string[]) seen.add(pair)
  return seen
}

export const gapsFile = fileURLToPath(new URL('../test/coverage-gaps.yaml', import.meta.url))

/**
 * For scripts/run-tests.ts: prints the verdict, and counts one pass or failure per database plus one
 * for the gaps file.
 */
export function coverageGate(
  coverageDir: string,
  databases: string[],
  out: Pick<Console, 'log' | 'error'> = console,
): { passed: number; failed: number } {
  const seenBy = Object.fromEntries(databases.map((db) => [db, readSeen(join(coverageDir, db))]))
  const verdict = judge(documentedAnswers(contract), seenBy, parseGaps(readFileSync(gapsFile, 'utf8')))
  let passed = 0
  let failed = 0
  for (const d of verdict.databases) {
    out.log(
      `${d.database}: ${d.answers - d.misses.length} of ${d.answers} documented answers exercised ` +
        `(every error status, and a success, per operation); ${d.accepted.length} accepted gaps`,
    )
    for (const m of d.accepted) out.log(`  accepted gap: ${pairOf(m)}`)
    if (d.unaccepted.length) {
      out.error(`${d.database}: documented answers no test produced (not in test/coverage-gaps.yaml):`)
      for (const m of d.unaccepted) out.error(`  ${pairOf(m)}`)
      failed++
    } else passed++
  }
  if (verdict.stale.length) {
    for (const { gap, why } of verdict.stale) out.error(`test/coverage-gaps.yaml: "${pairOf(gap)}" ${why}`)
    failed++
  } else passed++
  return { passed, failed }
}
