// `npm run bench`: measures the real server (dist/server.js, NODE_ENV=production, its own process,
// a fresh one per run) on fresh databases, next to a bare Fastify ceiling. See BENCHMARKS.md.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { emptyQueues, freshDatabase } from './databases.js'
import { measure } from './measure.js'
import { parseOptions, SCENARIOS, USAGE, type BenchOptions, type Database, type Scenario } from './options.js'
import { randomSecret, serverEnv, startProcess, type Running } from './processes.js'
import {
  failuresOf,
  markdown,
  SCALE_MIN_RATIO,
  svgChart,
  targetsOf,
  withRatios,
  type Results,
  type RunResult,
  type ScaleResult,
} from './report.js'
import { byPlace, hotspots } from './profile.js'
import { bulkLoad, queryPlans } from './scale.js'
import { SEND_POOL, seedAccounts, seedLoginUsers, type Seeded } from './seed.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
// The server measured: this checkout's, or with BENCH_SERVER_ROOT another built checkout's (an
// older commit, for before/after figures); the harness and the ceiling are always this one's.
const serverRoot = process.env.BENCH_SERVER_ROOT ? resolve(process.env.BENCH_SERVER_ROOT) : root
const log = (msg: string) => console.error(`[bench] ${msg}`)
const loads = () => loadavg().map((l) => Math.round(l * 100) / 100)

// What to stop if the run is interrupted or throws.
const cleanups = new Set<() => Promise<void>>()
let interrupted = false

async function withProcess<T>(
  script: string[],
  env: Record<string, string>,
  logFile: string,
  fn: (p: Running) => Promise<T>,
): Promise<T> {
  if (interrupted) throw new Error('interrupted')
  const p = await startProcess(script, env, logFile, script[0].startsWith(serverRoot) ? serverRoot : root)
  const stop = () => p.stop()
  cleanups.add(stop)
  try {
    return await fn(p)
  } finally {
    cleanups.delete(stop)
    await p.stop()
  }
}

function describe(r: RunResult): string {
  return `${r.db} ${r.scenario}${r.phase ? ` (${r.phase})` : ''} @${r.connections}: ${r.reqPerSec} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}, peak RSS ${r.peakRssMb} MB, server CPU ${r.serverCpuMsPerRequest} ms/req (${r.serverCpuCores} cores), load ${r.loadavg1m}`
}

/** Everything measured on one engine: seeding, each scenario at each connection count, the scale check. */
async function benchDatabase(
  db: Database,
  opts: BenchOptions,
  scenarios: Scenario[],
  tmp: string,
  runs: RunResult[],
  scale: ScaleResult[],
) {
  const [serverScript, ceilingScript] = opts.source
    ? [
        ['--import', 'tsx', join(serverRoot, 'server.ts')],
        ['--import', 'tsx', join(root, 'scripts/bench/ceiling.ts')],
      ]
    : [[join(serverRoot, 'dist/server.js')], [join(root, 'dist/scripts/bench/ceiling.js')]]
  const database = await freshDatabase(db, tmp, opts.postgresUrl)
  cleanups.add(database.drop)
  try {
    const secret = randomSecret()
    const env = (extra: Record<string, string> = {}) => serverEnv(database.url, secret, extra)
    const perPool = Math.max(...opts.connections)
    let seeded: Seeded | undefined
    if (scenarios.some((s) => s !== 'ceiling')) {
      const started = Date.now()
      // Cheap bcrypt while seeding: these accounts never log in during a measurement, and the
      // runs themselves use the server's default cost.
      const accounts = await withProcess(serverScript, env({ BCRYPT_COST: '4' }), join(tmp, `${db}-seed.log`), (p) =>
        seedAccounts(p.url, scenarios, perPool, opts.bundlePreKeys, log),
      )
      const loginUsers = scenarios.includes('login')
        ? await withProcess(serverScript, env(), join(tmp, `${db}-seed-login.log`), (p) =>
            seedLoginUsers(p.url, perPool),
          )
        : []
      seeded = { ...accounts, loginUsers }
      log(`${db}: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
    const one = async (scenario: Scenario, connections: number, phase?: 'scaled') => {
      const name = `${db}-${scenario}-${connections}${phase ? `-${phase}` : ''}`
      const logFile = join(tmp, `${name}.log`)
      if (scenario === 'send') await emptyQueues(database.url, SEND_POOL)
      const profileDir = join(resolve(opts.out), 'profiles')
      const profiling = opts.profile && scenario !== 'ceiling'
      const prof = profiling ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []
      const result = await (scenario === 'ceiling'
        ? withProcess(ceilingScript, { PATH: process.env.PATH ?? '' }, logFile, (p) =>
            measure(p, { db, scenario, connections }, undefined, opts),
          )
        : withProcess([...prof, ...serverScript], env(), logFile, (p) =>
            measure(p, { db, scenario, connections, phase }, seeded, opts),
          ))
      // Written by the server as it exits, so only now.
      if (profiling) {
        const file = join(profileDir, `${name}.cpuprofile`)
        if (existsSync(file)) result.profile = { byPlace: byPlace(file), hotspots: hotspots(file) }
        else log(`  no profile written at ${file}`)
      }
      log(describe(result))
      // Server logs at info grow by a line or two per request: keep only those of failed runs.
      if (failuresOf([result]).length === 0) rmSync(logFile, { force: true })
      else log(`  server log kept: ${logFile}`)
      runs.push(result)
      return result
    }
    for (const connections of opts.connections) for (const scenario of scenarios) await one(scenario, connections)

    if (opts.scale) {
      log(`${db}: bulk-loading ${opts.scaleUsers} users and ${opts.scaleMessages} messages`)
      const loaded = await bulkLoad(db, database.url, opts.scaleUsers, opts.scaleMessages, (m) => log(`  ${m}`))
      const comparisons: ScaleResult['comparisons'] = []
      for (const connections of opts.connections) {
        for (const scenario of ['send', 'fetch'] as const) {
          const scaled = await one(scenario, connections, 'scaled')
          const empty = runs.find(
            (r) => r.db === db && r.scenario === scenario && r.connections === connections && !r.phase,
          )!
          const ratio = Math.round((scaled.reqPerSec / empty.reqPerSec) * 1000) / 1000
          comparisons.push({
            scenario,
            connections,
            emptyReqPerSec: empty.reqPerSec,
            scaledReqPerSec: scaled.reqPerSec,
            ratio,
            pass: ratio >= SCALE_MIN_RATIO,
            emptyCpuMsPerRequest: empty.serverCpuMsPerRequest,
            scaledCpuMsPerRequest: scaled.serverCpuMsPerRequest,
            cpuRatio: Math.round((empty.serverCpuMsPerRequest / scaled.serverCpuMsPerRequest) * 1000) / 1000,
          })
        }
      }
      const plans = await queryPlans(db, database.url)
      scale.push({
        db,
        users: loaded.users,
        messages: loaded.messages,
        loadSeconds: loaded.seconds,
        comparisons,
        plans,
      })
    }
  } finally {
    cleanups.delete(database.drop)
    await database.drop()
  }
}

async function main(): Promise<number> {
  let opts: BenchOptions
  try {
    opts = parseOptions(process.argv.slice(2))
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  // The scale check compares with the empty-database send and fetch figures of the same run.
  const scenarios = SCENARIOS.filter(
    (s) => opts.scenarios.includes(s) || (opts.scale && (s === 'send' || s === 'fetch')),
  )
  if (opts.build) {
    log('npm run build')
    const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) return 2
  }
  if (!opts.source)
    for (const f of ['dist/server.js', 'dist/scripts/bench/ceiling.js'])
      if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run npm run build`)
  const out = resolve(opts.out)
  mkdirSync(out, { recursive: true })
  const tmp = mkdtempSync(join(tmpdir(), 'signal-bench-'))
  const startedAt = new Date().toISOString()
  const loadavgStart = loads()
  log(`load average at start: ${loadavgStart.join(' ')} on ${availableParallelism()} cores`)
  const runs: RunResult[] = []
  const scale: ScaleResult[] = []
  for (const db of opts.databases) await benchDatabase(db, opts, scenarios, tmp, runs, scale)

  const withRatio = withRatios(runs)
  const failures = failuresOf(withRatio)
  const results: Results = {
    meta: {
      startedAt,
      finishedAt: new Date().toISOString(),
      node: process.version,
      cores: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemMb: Math.round(totalmem() / 2 ** 20),
      loadavgStart,
      loadavgEnd: loads(),
      settings: {
        duration: opts.duration,
        warmup: opts.warmup,
        connections: opts.connections,
        databases: opts.databases,
        scenarios,
        scale: opts.scale,
        bcryptCost: 12,
        logLevel: 'info',
      },
    },
    runs: withRatio,
    scale,
    targets: targetsOf(withRatio, scale),
    failures,
    ok: failures.length === 0,
  }
  const md = markdown(results)
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  writeFileSync(join(out, 'results.md'), md)
  writeFileSync(join(out, 'chart.svg'), svgChart(results))
  console.log(md)
  log(`wrote ${join(out, 'results.json')}, results.md and chart.svg`)
  if (results.ok) rmSync(tmp, { recursive: true, force: true })
  else log(`FAILED (${failures.length}); server logs of failed runs in ${tmp}`)
  return results.ok ? 0 : 1
}

async function cleanUp() {
  for (const fn of [...cleanups].reverse()) await fn().catch(() => {})
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    log(`${signal}: stopping servers and dropping databases`)
    void cleanUp().then(() => process.exit(130))
  })
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    await cleanUp()
    process.exit(2)
  },
)
