// The result object, and what is made from it: failures, target checks, the Markdown report and
// the SVG chart. Pure functions of the results, so they can be tested on a fixed object.
import {
  SCALE_SCENARIOS,
  SCENARIOS,
  type Database,
  type RunScenario,
  type Scenario,
  type ScaleScenario,
} from './options.js'

export type Phase = 'empty' | 'scaled'

/** What the warm-up before a measured window got back; any failure in it fails the run like one in the window. */
type WarmupResult = {
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  resets: number
  statusCodes: Record<string, number>
  checkFailures: Record<string, number>
}

export type RunResult = {
  db: Database
  scenario: RunScenario
  connections: number
  /** Scale check only: on the empty or on the bulk-loaded database, in which round. Main runs have neither. */
  phase?: Phase
  round?: number
  reqPerSec: number
  requests: number
  seconds: number
  latencyMs: { p50: number; p99: number; max: number; mean: number }
  non2xx: number
  errors: number
  timeouts: number
  resets: number
  statusCodes: Record<string, number>
  checkFailures: Record<string, number>
  /** null when the run had no warm-up (--warmup 0). */
  warmup: WarmupResult | null
  /**
   * Server CPU time (user + system, all threads) per request in the measured window: much less
   * sensitive than req/s to other load on a shared machine.
   */
  serverCpuMsPerRequest: number
  /** Cores the server kept busy on average during the window. */
  serverCpuCores: number
  /**
   * PostgreSQL's CPU time per request in the window: all of this machine's `postgres` processes
   * (the harness's own database is on the same machine). Null on SQLite, which runs in the server.
   */
  dbCpuMsPerRequest?: number | null
  /** The ceiling's CPU per request over this run's: the req/s share to expect when the server alone is CPU-bound. */
  cpuRatioToCeiling: number | null
  /** Largest VmRSS sampled (every 100 ms) during the measured window. */
  peakRssMb: number
  /** VmHWM at the end (at least peakRssMb): the process's peak since start, warm-up and earlier runs included. */
  hwmMb: number
  serverLogErrors: number
  serverLogErrorSamples: string[]
  loadavg1m: number
  ratioToCeiling: number | null
  extra: { acksPerSec?: number; loginsPerSecPerCore?: number }
  /** `--profile` only: the server's self time by package/file and its hottest functions. */
  profile?: { byPlace: { where: string; share: number }[]; hotspots: { fn: string; where: string; share: number }[] }
}

export type QueryPlan = { name: string; sql: string; plan: string }
type Spread = { median: number; min: number; max: number }
export type Verdict = 'within' | 'outside' | 'inconclusive'
/** One scenario at one connection count: its empty and scaled runs, paired by round. */
export type ScaleComparison = {
  scenario: ScaleScenario
  connections: number
  /** Each round's pair of runs, made one right after the other; ratio = scaled CPU ms/req over empty. */
  rounds: {
    round: number
    emptyCpuMsPerRequest: number
    scaledCpuMsPerRequest: number
    ratio: number
    emptyReqPerSec: number
    scaledReqPerSec: number
  }[]
  emptyCpuMsPerRequest: Spread
  scaledCpuMsPerRequest: Spread
  ratio: Spread
  /**
   * Within or outside ±SCALE_TOLERANCE by every round's ratio; inconclusive when the rounds
   * disagree or are too few.
   */
  verdict: Verdict
  why: string
}
export type ScaleResult = {
  db: Database
  /** The bulk load: users and messages besides the long-queue devices. */
  users: number
  messages: number
  /** Devices holding `length` messages each, in both databases: the targets of send-long and fetch-long. */
  longQueue: { devices: number; length: number }
  /** Rows in the messages table of each database when the runs began. */
  emptyTableRows: number
  scaledTableRows: number
  loadSeconds: number
  rounds: number
  comparisons: ScaleComparison[]
  plans: QueryPlan[]
}

type Meta = {
  startedAt: string
  finishedAt: string
  node: string
  cores: number
  cpuModel: string
  totalMemMb: number
  loadavgStart: number[]
  loadavgEnd: number[]
  settings: {
    duration: number
    warmup: number
    connections: number[]
    databases: Database[]
    scenarios: Scenario[]
    scale: boolean
    scaleRounds: number
    bcryptCost: number
    logLevel: string
  }
}

/** `met`: null when the run did not measure what the target needs; 'inconclusive' when it did, but cannot tell. */
export type TargetCheck = { target: string; met: boolean | null | 'inconclusive'; detail: string }
export type Results = {
  meta: Meta
  runs: RunResult[]
  scale: ScaleResult[]
  targets: TargetCheck[]
  failures: string[]
  ok: boolean
}

/**
 * Scale check: the server CPU per request on the bulk-loaded database must stay within this share
 * of the empty database's, either way (scaled/empty between 0.8 and 1.2).
 */
const SCALE_TOLERANCE = 0.2
/** Fewer rounds give no spread: no verdict either way. */
const SCALE_MIN_ROUNDS = 2

/** ` (scaled, round 2)` for a scale-check run, nothing for a main run. */
const phaseOf = (r: Pick<RunResult, 'phase' | 'round'>) =>
  r.phase ? ` (${r.phase}${r.round ? `, round ${r.round}` : ''})` : ''
const label = (r: Pick<RunResult, 'db' | 'scenario' | 'connections' | 'phase' | 'round'>) =>
  `${r.db} ${r.scenario} @${r.connections}${phaseOf(r)}`
/** `1 round`, `2 rounds`. */
const roundsOf = (n: number) => `${n} round${n === 1 ? '' : 's'}`

/** Each run's req/s over the ceiling's at the same connection count, measured on the same database's turn. */
export function withRatios(runs: RunResult[]): RunResult[] {
  return runs.map((r) => {
    if (r.scenario === 'ceiling') return { ...r, ratioToCeiling: 1, cpuRatioToCeiling: 1 }
    const ceiling = runs.find((c) => c.scenario === 'ceiling' && c.db === r.db && c.connections === r.connections)
    const ratio = (a: number | undefined, b: number | undefined) =>
      a && b && a > 0 && b > 0 ? Math.round((a / b) * 1000) / 1000 : null
    return {
      ...r,
      ratioToCeiling: ratio(r.reqPerSec, ceiling?.reqPerSec),
      cpuRatioToCeiling: ratio(ceiling?.serverCpuMsPerRequest, r.serverCpuMsPerRequest),
    }
  })
}

/**
 * Why the run must fail: any non-2xx, connection error, timeout, broken loop or failed check, in
 * the window or in the warm-up before it, or an error the server logged.
 */
export function failuresOf(runs: RunResult[]): string[] {
  const out: string[] = []
  for (const r of runs) {
    if (r.non2xx > 0) out.push(`${label(r)}: ${r.non2xx} non-2xx responses (${JSON.stringify(r.statusCodes)})`)
    if (r.errors > 0) out.push(`${label(r)}: ${r.errors} request errors (${r.timeouts} timeouts)`)
    if (r.resets > 0) out.push(`${label(r)}: ${r.resets} request loops broken off`)
    for (const [why, n] of Object.entries(r.checkFailures)) out.push(`${label(r)}: ${why} (${n}×)`)
    if (r.serverLogErrors > 0)
      out.push(`${label(r)}: the server logged ${r.serverLogErrors} errors, e.g. ${r.serverLogErrorSamples[0] ?? ''}`)
    if (r.requests === 0) out.push(`${label(r)}: no request completed`)
    const w = r.warmup
    if (!w) continue
    if (w.non2xx > 0) out.push(`${label(r)}: warm-up: ${w.non2xx} non-2xx responses (${JSON.stringify(w.statusCodes)})`)
    if (w.errors > 0) out.push(`${label(r)}: warm-up: ${w.errors} request errors (${w.timeouts} timeouts)`)
    if (w.resets > 0) out.push(`${label(r)}: warm-up: ${w.resets} request loops broken off`)
    for (const [why, n] of Object.entries(w.checkFailures)) out.push(`${label(r)}: warm-up: ${why} (${n}×)`)
  }
  return out
}

const round3 = (n: number) => Math.round(n * 1000) / 1000

/** Median (of the middle two for an even count), smallest and largest. */
function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median: round3(median), min: sorted[0], max: sorted[sorted.length - 1] }
}

/**
 * Two-sided: within when every round's scaled/empty ratio lies within ±tolerance of 1, outside
 * when every one lies beyond it on the same side, and inconclusive when the rounds straddle the
 * line (their spread is wider than what they are to tell apart) or there are too few to show a spread.
 */
export function scaleVerdict(ratios: number[], tolerance = SCALE_TOLERANCE): { verdict: Verdict; why: string } {
  const band = bandOf(tolerance)
  if (ratios.length < SCALE_MIN_ROUNDS)
    return {
      verdict: 'inconclusive',
      why: `${roundsOf(ratios.length)}: no spread to judge by (it takes ${SCALE_MIN_ROUNDS} or more)`,
    }
  const { min, max } = spread(ratios)
  const range = `${pct(min)} to ${pct(max)}`
  const limit = Math.round(tolerance * 100)
  // The ratios are rounded to 0.001; the epsilon keeps 0.8 and 1.2 themselves inside.
  const lo = 1 - tolerance - 1e-9
  const hi = 1 + tolerance + 1e-9
  if (min >= lo && max <= hi) return { verdict: 'within', why: `every round within ${band}, ${range}` }
  if (min > hi) return { verdict: 'outside', why: `every round more than ${limit}% above empty, ${range}` }
  if (max < lo) return { verdict: 'outside', why: `every round more than ${limit}% below empty, ${range}` }
  return { verdict: 'inconclusive', why: `the rounds run from ${range}, across the ${band} line: too wide to conclude` }
}

/**
 * The order of the scale check's servers: in each round, for each connection count, one on the
 * empty and one on the scaled database right after each other; odd rounds start with empty, even
 * rounds with scaled, so that a drift of the machine's load over time falls on both alike.
 */
export function scaleSchedule(
  connections: number[],
  rounds: number,
): { round: number; connections: number; phase: Phase }[] {
  const out: { round: number; connections: number; phase: Phase }[] = []
  for (let round = 1; round <= rounds; round++)
    for (const c of connections)
      for (const phase of round % 2 ? (['empty', 'scaled'] as const) : (['scaled', 'empty'] as const))
        out.push({ round, connections: c, phase })
  return out
}

/** The scale check's comparisons for one database, from its runs: each round's pair of runs gives one ratio. */
export function compareScale(runs: RunResult[], db: Database): ScaleComparison[] {
  const mine = runs.filter((r) => r.db === db && r.phase && r.round)
  const conns = [...new Set(mine.map((r) => r.connections))].sort((a, b) => a - b)
  const out: ScaleComparison[] = []
  for (const c of conns) {
    for (const scenario of SCALE_SCENARIOS) {
      const of = (phase: Phase, round: number) =>
        mine.find((r) => r.scenario === scenario && r.connections === c && r.phase === phase && r.round === round)
      const roundNumbers = [...new Set(mine.map((r) => r.round!))].sort((a, b) => a - b)
      const rounds = roundNumbers.flatMap((round) => {
        const empty = of('empty', round)
        const scaled = of('scaled', round)
        if (!empty || !scaled) return []
        return [
          {
            round,
            emptyCpuMsPerRequest: empty.serverCpuMsPerRequest,
            scaledCpuMsPerRequest: scaled.serverCpuMsPerRequest,
            ratio: round3(scaled.serverCpuMsPerRequest / empty.serverCpuMsPerRequest),
            emptyReqPerSec: empty.reqPerSec,
            scaledReqPerSec: scaled.reqPerSec,
          },
        ]
      })
      if (!rounds.length) continue
      const ratios = rounds.map((r) => r.ratio)
      out.push({
        scenario,
        connections: c,
        rounds,
        emptyCpuMsPerRequest: spread(rounds.map((r) => r.emptyCpuMsPerRequest)),
        scaledCpuMsPerRequest: spread(rounds.map((r) => r.scaledCpuMsPerRequest)),
        ratio: spread(ratios),
        ...scaleVerdict(ratios),
      })
    }
  }
  return out
}

/** The issue's targets; `met: null` when the run did not measure what a target needs. */
export function targetsOf(runs: RunResult[], scale: ScaleResult[]): TargetCheck[] {
  const main = runs.filter((r) => !r.phase)
  const out: TargetCheck[] = []
  // Issue 15's: send and fetch at 50 connections as shares of the same run's ceiling.
  for (const [db, scenario, min] of [
    ['sqlite', 'send', 0.12],
    ['sqlite', 'fetch', 0.15],
    ['postgres', 'send', 0.06],
    ['postgres', 'fetch', 0.08],
  ] as const) {
    const r = main.find((x) => x.db === db && x.scenario === scenario && x.connections === 50)
    const target = `${db} ${scenario} @50 ≥ ${min * 100}% of ceiling`
    if (!r || r.ratioToCeiling === null) out.push({ target, met: null, detail: 'not measured' })
    else out.push({ target, met: r.ratioToCeiling >= min, detail: `${pct(r.ratioToCeiling)} (${r.reqPerSec} req/s)` })
  }
  // The multi-device send to 3 devices: at least half the req/s of a single-device send.
  for (const db of ['sqlite', 'postgres'] as const)
    for (const connections of [...new Set(main.map((r) => r.connections))]) {
      const one = main.find((x) => x.db === db && x.scenario === 'send' && x.connections === connections)
      const three = main.find((x) => x.db === db && x.scenario === 'send-v2-3' && x.connections === connections)
      if (!one || !three) continue
      out.push({
        target: `${db} send-v2-3 @${connections} ≥ 50% of send's req/s`,
        met: three.reqPerSec >= one.reqPerSec / 2,
        detail: `${pct(three.reqPerSec / one.reqPerSec)} (${three.reqPerSec} vs ${one.reqPerSec} req/s)`,
      })
    }
  const at10 = main.filter((r) => r.connections === 10 && r.scenario !== 'login')
  const slow = at10.filter((r) => r.latencyMs.p99 >= 25)
  out.push({
    target: 'p99 < 25 ms @10 (all but login)',
    met: at10.length ? slow.length === 0 : null,
    detail: at10.length
      ? slow.length
        ? slow.map((r) => `${r.db} ${r.scenario} ${r.latencyMs.p99} ms`).join(', ')
        : `worst ${Math.max(...at10.map((r) => r.latencyMs.p99))} ms`
      : 'not measured',
  })
  const servers = runs.filter((r) => r.scenario !== 'ceiling')
  const fat = servers.filter((r) => r.peakRssMb >= 200)
  out.push({
    target: 'peak RSS < 200 MB',
    met: servers.length ? fat.length === 0 : null,
    detail: servers.length
      ? fat.length
        ? fat.map((r) => `${label(r)} ${r.peakRssMb} MB`).join(', ')
        : `largest ${Math.max(...servers.map((r) => r.peakRssMb))} MB`
      : 'not measured',
  })
  const bad = runs.reduce((n, r) => n + r.non2xx, 0)
  out.push({ target: 'zero non-2xx', met: runs.length ? bad === 0 : null, detail: `${bad} non-2xx` })
  for (const s of scale) {
    const messages = s.scaledTableRows.toLocaleString('en')
    for (const c of s.comparisons) {
      out.push({
        target:
          `${s.db} ${c.scenario} @${c.connections}: ` +
          `server CPU per request with ${messages} messages within ${bandOf(SCALE_TOLERANCE)} of empty`,
        met: c.verdict === 'inconclusive' ? 'inconclusive' : c.verdict === 'within',
        detail: `scaled/empty ${pct(c.ratio.median)} (median of ${c.rounds.length}): ${c.why}`,
      })
    }
  }
  return out
}

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`
const bandOf = (tolerance: number) => `±${Math.round(tolerance * 100)}%`
const mark = (met: TargetCheck['met']) =>
  met === null ? '–' : met === 'inconclusive' ? '⚠️ inconclusive' : met ? '✅ met' : '❌ missed'

function notes(r: RunResult): string {
  const n: string[] = []
  if (r.extra.acksPerSec !== undefined) n.push(`${r.extra.acksPerSec} acks/s`)
  if (r.extra.loginsPerSecPerCore !== undefined) n.push(`${r.extra.loginsPerSecPerCore} logins/s/core`)
  return n.join(', ')
}

/** One row of a Markdown table: `| a | b |`, each cell as a template literal would write it. */
const tableRow = (cells: unknown[]) => `| ${cells.map(String).join(' | ')} |`

function runsTable(runs: RunResult[]): string {
  const rows = [
    tableRow([
      'DB',
      'Scenario',
      'Conns',
      'req/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'non-2xx',
      'errors',
      'peak RSS MB',
      'vs ceiling',
      'server CPU ms/req',
      'vs ceiling by CPU',
      'PostgreSQL CPU ms/req',
      'load 1m',
      'notes',
    ]),
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  const share = (r: RunResult, v: number | null) => (r.scenario === 'ceiling' ? '—' : v === null ? 'n/a' : pct(v))
  for (const r of runs) {
    rows.push(
      tableRow([
        r.db,
        `${r.scenario}${phaseOf(r)}`,
        r.connections,
        r.reqPerSec,
        r.latencyMs.p50,
        r.latencyMs.p99,
        r.latencyMs.max,
        r.non2xx,
        r.errors,
        r.peakRssMb,
        share(r, r.ratioToCeiling),
        r.serverCpuMsPerRequest,
        share(r, r.cpuRatioToCeiling),
        r.dbCpuMsPerRequest ?? '—',
        r.loadavg1m,
        notes(r),
      ]),
    )
  }
  return rows.join('\n')
}

function targetsTable(targets: TargetCheck[]): string {
  return [
    '| Target | Result | Measured |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.target} | ${mark(t.met)} | ${t.detail} |`),
  ].join('\n')
}

const VERDICT: Record<Verdict, string> = {
  within: `✅ within ${bandOf(SCALE_TOLERANCE)}`,
  outside: `❌ outside ${bandOf(SCALE_TOLERANCE)}`,
  inconclusive: '⚠️ inconclusive',
}
const spreadOf = (s: Spread, f: (n: number) => string = String) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`

/** Per database: what was loaded, the comparisons, every run they come from, and the query plans. */
function scaleMarkdown(scale: ScaleResult[], runs: RunResult[]): string {
  const out: string[] = []
  const n = (x: number) => x.toLocaleString('en')
  for (const s of scale) {
    const { devices, length } = s.longQueue
    out.push(
      `#### ${s.db}: ${n(s.users)} users/devices with ${n(s.messages)} messages, ` +
        `plus ${n(devices)} long-queue devices with ${n(length)} messages each (loaded in ${s.loadSeconds} s)`,
      '',
      `Messages table: ${n(s.emptyTableRows)} rows in the empty database (the seeded queues and the long queues), ` +
        `${n(s.scaledTableRows)} in the scaled one. ` +
        `${roundsOf(s.rounds)}; in each, per connection count, a server on each database right after the other, ` +
        'running send, fetch, fetch-long and send-long in turn. ' +
        'Ratio = scaled server CPU ms/req over empty, per round; median (min–max).',
      '',
      tableRow([
        'Scenario',
        'Conns',
        'Rounds',
        'empty CPU ms/req',
        'scaled CPU ms/req',
        'scaled/empty',
        'verdict',
        'empty req/s (median)',
        'scaled req/s (median)',
      ]),
      '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    )
    for (const c of s.comparisons) {
      const reqs = (k: 'emptyReqPerSec' | 'scaledReqPerSec') => spread(c.rounds.map((r) => r[k])).median
      out.push(
        tableRow([
          c.scenario,
          c.connections,
          c.rounds.length,
          spreadOf(c.emptyCpuMsPerRequest),
          spreadOf(c.scaledCpuMsPerRequest),
          spreadOf(c.ratio, pct),
          VERDICT[c.verdict],
          reqs('emptyReqPerSec'),
          reqs('scaledReqPerSec'),
        ]),
      )
    }
    out.push('', 'The runs these come from:', '', runsTable(runs.filter((r) => r.db === s.db && r.phase)), '')
    for (const p of s.plans) out.push(`**${p.name}**`, '', '```sql', p.sql, '```', '', '```', p.plan, '```', '')
  }
  return out.join('\n')
}

function profilesMarkdown(runs: RunResult[]): string {
  const out: string[] = []
  for (const r of runs) {
    if (!r.profile) continue
    out.push(`**${label(r)}**: ${r.profile.byPlace.map((p) => `${p.where} ${pct(p.share)}`).join(', ')}`, '')
    out.push(r.profile.hotspots.map((h) => `- ${pct(h.share)} \`${h.fn}\` ${h.where}`).join('\n'), '')
  }
  return out.join('\n')
}

export function markdown(results: Results): string {
  const m = results.meta
  const set = m.settings
  const main = results.runs.filter((r) => !r.phase)
  const scaleServers = set.scale
    ? ` (in the scale check: per database, round and connection count; ${roundsOf(set.scaleRounds)})`
    : ''
  const out = [
    `## Benchmark ${m.startedAt}`,
    '',
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.totalMemMb} MB RAM, Node ${m.node}. ` +
      `Load average at start ${m.loadavgStart.join(' / ')}, at end ${m.loadavgEnd.join(' / ')} (1/5/15 min).`,
    `Settings: ${set.warmup} s warm-up + ${set.duration} s measured per run, ` +
      `connections ${set.connections.join(', ')}, server NODE_ENV=production, LOG_LEVEL=${set.logLevel}, ` +
      `BCRYPT_COST=${set.bcryptCost}, a fresh server process per run${scaleServers}.`,
    '',
    runsTable(main),
    '',
    '### Targets',
    '',
    targetsTable(results.targets),
    '',
  ]
  if (results.scale.length) out.push('### Scale check', '', scaleMarkdown(results.scale, results.runs))
  const profiled = results.runs.filter((r) => r.profile)
  if (profiled.length)
    out.push('### Where the time goes (server CPU self time, whole process)', '', profilesMarkdown(profiled))
  out.push(
    results.ok ? '**No request failed.**' : `**FAILED:**\n\n${results.failures.map((f) => `- ${f}`).join('\n')}`,
    '',
  )
  return out.join('\n')
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2']

/**
 * Horizontal bars of req/s: one panel per database, one group per scenario (the ceiling first),
 * one bar per connection count. Each panel has its own linear scale, set by its largest figure.
 */
export function svgChart(results: Results): string {
  const runs = results.runs.filter((r) => !r.phase)
  const dbs = [...new Set(runs.map((r) => r.db))]
  const conns = [...new Set(runs.map((r) => r.connections))].sort((a, b) => a - b)
  const W = 860
  const left = 130
  const barW = W - left - 110
  const barH = 14
  const rows: string[] = []
  let y = 40
  for (const db of dbs) {
    const mine = runs.filter((r) => r.db === db)
    const max = Math.max(1, ...mine.map((r) => r.reqPerSec))
    rows.push(`<text x="10" y="${y}" font-size="15" font-weight="bold">${esc(db)}</text>`)
    y += 10
    for (const scenario of SCENARIOS) {
      const group = conns
        .map((c) => mine.find((r) => r.scenario === scenario && r.connections === c))
        .filter((r): r is RunResult => !!r)
      if (!group.length) continue
      const labelY = y + (group.length * (barH + 2)) / 2 + 4
      rows.push(`<text x="${left - 8}" y="${labelY}" font-size="12" text-anchor="end">${esc(scenario)}</text>`)
      for (const r of group) {
        const w = Math.max(1, (r.reqPerSec / max) * barW)
        const color = scenario === 'ceiling' ? '#9a9a9a' : COLORS[conns.indexOf(r.connections) % COLORS.length]
        const ratio = r.scenario === 'ceiling' || r.ratioToCeiling === null ? '' : ` (${pct(r.ratioToCeiling)})`
        rows.push(
          `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}">` +
            `<title>${esc(label(r))}: ${r.reqPerSec} req/s</title></rect>`,
        )
        const text = `${r.reqPerSec} req/s @${r.connections}${ratio}`
        rows.push(`<text x="${left + w + 4}" y="${y + barH - 3}" font-size="10">${text}</text>`)
        y += barH + 2
      }
      y += 8
    }
    y += 18
  }
  /** One legend entry, the i-th from the left: a colour swatch and its text. */
  const legendEntry = (i: number, color: string, text: string) =>
    `<rect x="${left + i * 130}" y="12" width="12" height="12" fill="${color}"/>` +
    `<text x="${left + i * 130 + 16}" y="22" font-size="11">${text}</text>`
  const legend = conns.map((c, i) => legendEntry(i, COLORS[i % COLORS.length], `${c} connections`)).join('')
  const ceilingLegend = legendEntry(conns.length, '#9a9a9a', 'ceiling (bare Fastify)')
  const { cores, node, startedAt } = results.meta
  const footnote =
    `${cores} cores, Node ${node}, ${startedAt}; ` +
    'each panel scaled to its largest figure; % = share of the ceiling at the same connections'
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" ` +
      'font-family="sans-serif">',
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="13" font-weight="bold">req/s</text>`,
    legend + ceilingLegend,
    ...rows,
    `<text x="10" y="${y - 6}" font-size="10" fill="#666">${esc(footnote)}</text>`,
    '</svg>',
    '',
  ].join('\n')
}
