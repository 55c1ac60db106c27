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
