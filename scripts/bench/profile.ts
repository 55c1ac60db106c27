// `--profile`: where a server's CPU time went, from the V8 profile `node --cpu-prof` writes at exit.
import { readFileSync } from 'node:fs'

type Node = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
export type Hotspot = { share: number; fn: string; where: string }

// Group node_modules by package, our code by file: the optimiser wants "pino" or "db/messages.ts".
function placeOf(url: string): string {
  if (!url) return '(native)'
  const path = url.replace(/^file:\/\//, '')
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (pkg) return pkg[1]
  if (path.startsWith('node:')) return path
  const ours = /\/dist\/(.*)$/.exec(path)
  return ours ? ours[1] : path
}

/** The functions with the most self time (share of all samples), largest first. */
export function hotspots(profileFile: string, top = 15): Hotspot[] {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as { nodes: Node[] }
  const byKey = new Map<string, Hotspot & { hits: number }>()
  let total = 0
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0
    total += hits
    if (!hits) continue
    const fn = n.callFrame.functionName || '(anonymous)'
    const where = placeOf(n.callFrame.url)
    const key = `${fn}@${where}:${n.callFrame.url ? n.callFrame.lineNumber + 1 : ''}`
    const entry = byKey.get(key) ?? {
      fn,
      where: n.callFrame.url ? `${where}:${n.callFrame.lineNumber + 1}` : where,
      share: 0,
      hits: 0,
    }
    entry.hits += hits
    byKey.set(key, entry)
  }
  return [...byKey.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map(({ fn, where, hits }) => ({ fn, where, share: Math.round((hits / Math.max(1, total)) * 1000) / 1000 }))
}

/** Self time per package / file (e.g. "pino", "knex", "db/messages.js", "(garbage collector)"). */
export function byPlace(profileFile: string, top = 12): { where: string; share: number }[] {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as { nodes: Node[] }
  const sums = new Map<string, number>()
  let total = 0
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0
    total += hits
    const where = n.callFrame.url ? placeOf(n.callFrame.url) : n.callFrame.functionName || '(native)'
    sums.set(where, (sums.get(where) ?? 0) + hits)
  }
  return [...sums.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, hits]) => ({ where, share: Math.round((hits / Math.max(1, total)) * 1000) / 1000 }))
}

/**
 * Where the server's busy CPU went in the last `windowMs` of a profile (the measured window, not
 * start-up or warm-up): each sample goes to the first category its stack matches, in this order.
 */
const CATEGORIES: [string, RegExp][] = [
  ['HTTP answer written (writev)', /^writePayload fastify/],
  ['SQLite statements', /^(\(anonymous\) db\/driver\.js|runOnce db\/sqlite-client\.js)/],
  ['pg driver (incl. its writev)', /^\S+ (pg|pg-protocol)$/],
  ['knex and its pool', /^\S+ (knex|tarn)$/],
  ['token check (JWT, HMAC)', /^(\S+ fast-jwt|claimsOf plugins\/auth\.js)$/],
  ['answer serialisation', /^(\S+ fast-json-stringify|toMessage db\/messages\.js)$/],
  ['request log line', /^(\S+ plugins\/request-log\.js|\S+ pino)$/],
  ['validation', /^(\S+ ajv|validate fastify)$/],
  ['GC', /^\(garbage collector\)/],
]
const OTHER = 'other (Fastify, HTTP parsing, routing, handlers)'
export const CATEGORY_NAMES = [...CATEGORIES.map(([name]) => name), OTHER]

export function byCategory(profileFile: string, windowMs: number): Record<string, number> {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as {
    nodes: Node[]
    samples: number[]
    timeDeltas: number[]
    startTime: number
    endTime: number
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${placeOf(n.callFrame.url)}`
  const from = profile.endTime - windowMs * 1000
  const counts = new Map<string, number>()
  let at = profile.startTime
  let total = 0
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i]
    if (at < from || byId.get(id)?.callFrame.functionName === '(idle)') return
    const stack: string[] = []
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) stack.push(label(byId.get(c)!))
    const name = CATEGORIES.find(([, re]) => stack.some((frame) => re.test(frame)))?.[0] ?? OTHER
    counts.set(name, (counts.get(name) ?? 0) + 1)
    total++
  })
  return Object.fromEntries(CATEGORY_NAMES.map((name) => [name, (counts.get(name) ?? 0) / Math.max(1, total)]))
}
