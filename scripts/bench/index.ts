// `npm run bench`: measures the real server (dist/server.js, NODE_ENV=production, its own process:
// a fresh one per run, in the scale check one per database, round and connection count) on fresh
// databases, next to a bare Fastify ceiling. See BENCHMARKS.md.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { emptyQueues, freshDatabase, resetLongQueues, type FreshDatabase } from './databases.js'
import { measure } from './measure.js'
import {
  parseOptions,
  SCALE_SCENARIOS,
  SCENARIOS,
  isV2,
  USAGE,
  type BenchOptions,
  type Database,
  type Scenario,
} from './options.js'
import { logErrors, randomSecret, serverEnv, startProcess, waitIdle, type Running } from './processes.js'
import {
  compareScale,
  failuresOf,
  markdown,
  scaleSchedule,
  svgChart,
  targetsOf,
  withRatios,
  type Results,
  type RunResult,
  type ScaleResult,
} from './report.js'
import { byPlace, hotspots } from './profile.js'
import { bulkLoad, LOAD_SENDER, longQueueTargets, queryPlans, type LoadSummary } from './scale.js'
import { SEND_POOL, seedAccounts, seedLoginUsers, V2_POOL, type Seeded } from './seed.js'

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
  return (
    `${r.db} ${r.scenario}${r.phase ? ` (${r.phase}, round ${r.round})` : ''} @${r.connections}: ` +
    `${r.reqPerSec} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ` +
    `non-2xx ${r.non2xx}, errors ${r.errors}, peak RSS ${r.peakRssMb} MB, ` +
    `server CPU ${r.serverCpuMsPerRequest} ms/req (${r.serverCpuCores} cores), ` +
    (r.dbCpuMsPerRequest != null ? `PostgreSQL CPU ${r.dbCpuMsPerRequest} ms/req, ` : '') +
    `load ${r.loadavg1m}`
  )
}

type ServerScripts = { server: string[]; ceiling: string[] }

/** Everything measured on one engine: seeding, each scenario at each connection count, the scale check. */
async function benchDatabase(
  db: Database,
  opts: BenchOptions,
  scenarios: Scenario[],
  tmp: string,
  runs: RunResult[],
  scale: ScaleResult[],
) {
  const scripts: ServerScripts = opts.source
    ? {
        server: ['--import', 'tsx', join(serverRoot, 'server.ts')],
        ceiling: ['--import', 'tsx', join(root, 'scripts/bench/ceiling.ts')],
      }
    : { server: [join(serverRoot, 'dist/server.js')], ceiling: [join(root, 'dist/scripts/bench/ceiling.js')] }
  const databases: FreshDatabase[] = []
  const dropAll = async () => {
    for (const d of databases) await d.drop()
  }
  cleanups.add(dropAll)
  try {
    const database = await freshDatabase(db, tmp, opts.postgresUrl)
    databases.push(database)
    const secret = randomSecret()
    const env = (url: string, extra: Record<string, string> = {}) => serverEnv(url, secret, extra)
    const perPool = Math.max(...opts.connections)
    // The scale check sends and fetches whatever the main runs measure.
    const seedFor: Scenario[] = opts.scale ? [...new Set([...scenarios, 'send', 'fetch'] as const)] : scenarios
    let seeded: Seeded | undefined
    if (seedFor.some((s) => s !== 'ceiling')) {
      const started = Date.now()
      // Cheap bcrypt while seeding: these accounts never log in during a measurement, and the
      // runs themselves use the server's default cost.
      const accounts = await withProcess(
        scripts.server,
        env(database.url, { BCRYPT_COST: '4' }),
        join(tmp, `${db}-seed.log`),
        (p) => seedAccounts(p.url, seedFor, perPool, opts.bundlePreKeys, log),
      )
      const loginUsers = scenarios.includes('login')
        ? await withProcess(scripts.server, env(database.url), join(tmp, `${db}-seed-login.log`), (p) =>
            seedLoginUsers(p.url, perPool),
          )
        : []
      seeded = { ...accounts, loginUsers }
      log(`${db}: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
    // The scale check's two databases start as copies of the seeded one, before any run changes it.
    const copies = opts.scale ? [await database.clone(), await database.clone()] : []
    databases.push(...copies)

    const one = async (scenario: Scenario, connections: number) => {
      const name = `${db}-${scenario}-${connections}`
      const logFile = join(tmp, `${name}.log`)
      if (scenario === 'send') await emptyQueues(database.url, SEND_POOL)
      if (isV2(scenario)) await emptyQueues(database.url, V2_POOL)
      const profileDir = join(resolve(opts.out), 'profiles')
      const profiling = opts.profile && scenario !== 'ceiling'
      const prof = profiling ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []
      prof.push(...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []))
      const result = await (scenario === 'ceiling'
        ? withProcess(scripts.ceiling, { PATH: process.env.PATH ?? '' }, logFile, (p) =>
            measure(p, { db, scenario, connections }, undefined, opts),
          )
        : withProcess([...prof, ...scripts.server], env(database.url), logFile, (p) =>
            measure(p, { db, scenario, connections }, seeded, opts),
          ))
      // Written by the server as it exits, so only now.
      if (profiling) {
        const file = join(profileDir, `${name}.cpuprofile`)
        if (existsSync(file)) result.profile = { byPlace: byPlace(file), hotspots: hotspots(file) }
        else log(`  no profile written at ${file}`)
      }
      log(describe(result))
      // Server logs at info grow by a line or two per request: keep only those of failed runs.
      if (failuresOf([result]).length === 0 && !process.env.BENCH_KEEP_LOGS) rmSync(logFile, { force: true })
      else log(`  server log kept: ${logFile}`)
      runs.push(result)
      return result
    }
    for (const connections of opts.connections) for (const scenario of scenarios) await one(scenario, connections)

    if (opts.scale && seeded) {
      const [emptyDb, scaledDb] = copies
      await scaleCheck(db, opts, scripts.server, { empty: emptyDb, scaled: scaledDb }, seeded, env, tmp, runs, scale)
    }
  } finally {
    cleanups.delete(dropAll)
    await dropAll()
  }
}

/**
 * The scale check on one engine: the long queues into both copies and the bulk load into one,
 * then the interleaved rounds (scaleSchedule), and the query plans on the bulk-loaded copy.
 */
async function scaleCheck(
  db: Database,
  opts: BenchOptions,
  serverScript: string[],
  dbs: Record<'empty' | 'scaled', FreshDatabase>,
  seeded: Seeded,
  env: (url: string) => Record<string, string>,
  tmp: string,
  runs: RunResult[],
  scale: ScaleResult[],
) {
  const perPool = Math.max(...opts.connections)
  const long = { longDevices: perPool, longQueue: opts.scaleQueue }
  log(`${db}: ${perPool} long queues of ${opts.scaleQueue} messages into the empty copy`)
  const emptyLoad = await bulkLoad(db, dbs.empty.url, { ...long, users: 0, messages: 0 }, (m) => log(`  ${m}`))
  log(`${db}: the same, and ${opts.scaleUsers} users with ${opts.scaleMessages} messages, into the scaled copy`)
  const scaledLoad = await bulkLoad(
    db,
    dbs.scaled.url,
    { ...long, users: opts.scaleUsers, messages: opts.scaleMessages },
    (m) => log(`  ${m}`),
  )
  const phases: Record<'empty' | 'scaled', { db: FreshDatabase; load: LoadSummary; seeded?: Seeded }> = {
    empty: { db: dbs.empty, load: emptyLoad },
    scaled: { db: dbs.scaled, load: scaledLoad },
  }
  for (const step of scaleSchedule(opts.connections, opts.scaleRounds)) {
    const phase = phases[step.phase]
    // Every server finds the queues as seeded and loaded, whatever earlier rounds sent.
    await emptyQueues(phase.db.url, SEND_POOL)
    await resetLongQueues(phase.db.url, phase.load.longDeviceIds, phase.load.lastLoadedId)
    const logFile = join(tmp, `${db}-scale-${step.phase}-${step.round}-${step.connections}.log`)
    const stepRuns = await withProcess(serverScript, env(phase.db.url), logFile, async (p) => {
      // Logged in once per database through the first server on it; the sessions stay for the others.
      phase.seeded ??= {
        ...seeded,
        longQueue: {
          targets: await longQueueTargets(p.url, phase.db.url, perPool),
          length: opts.scaleQueue,
          sender: LOAD_SENDER,
        },
      }
      const out: RunResult[] = []
      for (const scenario of SCALE_SCENARIOS) {
        const target = { db, scenario, connections: step.connections, phase: step.phase, round: step.round }
        out.push(await measure(p, target, phase.seeded, opts))
        log(describe(out[out.length - 1]))
      }
      // The requests the last window left in flight finish, and what they log counts against it
      // (as a later run's window would count it). Not the shutdown: a handler still waiting for
      // the database when the pool closes logs an error, and no main run looks at the log then.
      await waitIdle(p.pid)
      const all = logErrors(logFile)
      const late = all.count - out.reduce((n, r) => n + r.serverLogErrors, 0)
      const last = out[out.length - 1]
      if (late > 0) {
        last.serverLogErrors += late
        if (!last.serverLogErrorSamples.length) last.serverLogErrorSamples = all.samples
      }
      return out
    })
    runs.push(...stepRuns)
    if (failuresOf(stepRuns).length === 0) rmSync(logFile, { force: true })
    else log(`  server log kept: ${logFile}`)
  }
  // Explained for the long queue as loaded, not as the last send-long run left it.
  await resetLongQueues(dbs.scaled.url, scaledLoad.longDeviceIds, scaledLoad.lastLoadedId)
  const plans = await queryPlans(db, dbs.scaled.url)
  scale.push({
    db,
    users: opts.scaleUsers,
    messages: opts.scaleMessages,
    longQueue: { devices: perPool, length: opts.scaleQueue },
    emptyTableRows: emptyLoad.tableRows,
    scaledTableRows: scaledLoad.tableRows,
    loadSeconds: scaledLoad.seconds,
    rounds: opts.scaleRounds,
    comparisons: compareScale(runs, db),
    plans,
  })
}

async function main(): Promise<number> {
  let opts: BenchOptions
  try {
    opts = parseOptions(process.argv.slice(2))
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const scenarios = SCENARIOS.filter((s) => opts.scenarios.includes(s))
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
        scaleRounds: opts.scale ? opts.scaleRounds : 0,
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
  if (results.ok && !process.env.BENCH_KEEP_LOGS) rmSync(tmp, { recursive: true, force: true })
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
