// `npm run bench`: the report code on a fixed result, the option parsing, and one tiny real run of
// the harness (the server from source, on this run's engine). Nothing here judges speed.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseOptions } from '../../scripts/bench/options.js'
import {
  failuresOf,
  markdown,
  svgChart,
  targetsOf,
  withRatios,
  type Results,
  type RunResult,
} from '../../scripts/bench/report.js'
import { database } from '../helper.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function run(over: Partial<RunResult>): RunResult {
  return {
    db: 'sqlite',
    scenario: 'send',
    connections: 50,
    reqPerSec: 1000,
    requests: 10000,
    seconds: 10,
    latencyMs: { p50: 5, p99: 20, max: 40, mean: 6 },
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    resets: 0,
    statusCodes: { '201': 10000 },
    checkFailures: {},
    warmupNon2xxOrErrors: 0,
    serverCpuMsPerRequest: 0.5,
    serverCpuCores: 0.5,
    cpuRatioToCeiling: null,
    peakRssMb: 120,
    hwmMb: 130,
    serverLogErrors: 0,
    serverLogErrorSamples: [],
    loadavg1m: 1.5,
    ratioToCeiling: null,
    extra: {},
    ...over,
  }
}

const fixedRuns = [
  run({ scenario: 'ceiling', connections: 10, reqPerSec: 10000, peakRssMb: 60 }),
  run({ scenario: 'send', connections: 10, reqPerSec: 4000, latencyMs: { p50: 2, p99: 30, max: 50, mean: 3 } }),
  run({ scenario: 'ceiling', reqPerSec: 12000, serverCpuMsPerRequest: 0.1 }),
  run({ scenario: 'send', reqPerSec: 4800 }),
  run({ scenario: 'fetch', reqPerSec: 3000, non2xx: 4, statusCodes: { '200': 9996, '500': 4 } }),
  run({
    scenario: 'fetch-and-ack',
    reqPerSec: 2100,
    extra: { acksPerSec: 700 },
    checkFailures: { 'fetch-and-ack: fetched an empty queue': 2 },
  }),
  run({ scenario: 'login', reqPerSec: 8, peakRssMb: 210, extra: { loginsPerSecPerCore: 4 } }),
  run({ db: 'postgres', scenario: 'send', reqPerSec: 2000 }),
]

t.test('ratios are taken against the ceiling of the same database and connection count', async (tt) => {
  const runs = withRatios(fixedRuns)
  tt.equal(runs[1].ratioToCeiling, 0.4, 'send @10 over ceiling @10')
  tt.equal(runs[3].ratioToCeiling, 0.4, 'send @50 over ceiling @50')
  tt.equal(runs[3].cpuRatioToCeiling, 0.2, 'ceiling CPU per request over send CPU per request')
  tt.equal(runs[4].ratioToCeiling, 0.25)
  tt.equal(runs[0].ratioToCeiling, 1)
  tt.equal(runs[7].ratioToCeiling, null, 'no postgres ceiling measured')
})

t.test('failures name every non-2xx, error and failed check', async (tt) => {
  const failures = failuresOf(withRatios(fixedRuns))
  tt.equal(failures.length, 2)
  tt.match(failures[0], /sqlite fetch @50: 4 non-2xx responses .*"500":4/)
  tt.match(failures[1], /fetch-and-ack @50: fetch-and-ack: fetched an empty queue \(2×\)/)
  tt.same(
    failuresOf([run({ errors: 3, timeouts: 1, resets: 2, serverLogErrors: 1, serverLogErrorSamples: ['boom'] })])
      .length,
    3,
  )
  tt.same(failuresOf([run({ requests: 0 })]), ['sqlite send @50: no request completed'])
})

t.test('targets: met, missed, and not measured', async (tt) => {
  const targets = targetsOf(withRatios(fixedRuns), [
    {
      db: 'sqlite',
      users: 10,
      messages: 100,
      loadSeconds: 1,
      plans: [],
      comparisons: [
        {
          scenario: 'send',
          connections: 50,
          emptyReqPerSec: 4800,
          scaledReqPerSec: 3600,
          ratio: 0.75,
          pass: false,
          emptyCpuMsPerRequest: 0.5,
          scaledCpuMsPerRequest: 0.55,
          cpuRatio: 0.909,
        },
      ],
    },
  ])
  const byName = Object.fromEntries(targets.map((x) => [x.target, x]))
  tt.equal(byName['sqlite send @50 ≥ 35% of ceiling'].met, true)
  tt.equal(byName['sqlite fetch @50 ≥ 35% of ceiling'].met, false)
  tt.equal(byName['postgres send @50 ≥ 20% of ceiling'].met, null, 'no ceiling to compare with')
  tt.equal(byName['postgres fetch @50 ≥ 20% of ceiling'].met, null)
  tt.equal(byName['p99 < 25 ms @10 (all but login)'].met, false)
  tt.match(byName['p99 < 25 ms @10 (all but login)'].detail, /sqlite send 30 ms/)
  tt.equal(byName['peak RSS < 200 MB'].met, false)
  tt.match(byName['peak RSS < 200 MB'].detail, /login @50 210 MB/)
  tt.equal(byName['zero non-2xx'].met, false)
  tt.equal(byName['sqlite send @50 with 100 messages within 20%'].met, false)
  tt.match(
    byName['sqlite send @50 with 100 messages within 20%'].detail,
    /75\.0% of empty .*by server CPU per request 90\.9%/,
  )
})

function fixedResults(): Results {
  const runs = withRatios(fixedRuns)
  return {
    meta: {
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:10:00.000Z',
      node: 'v20.0.0',
      cores: 2,
      cpuModel: 'Test CPU',
      totalMemMb: 4096,
      loadavgStart: [0.5, 0.4, 0.3],
      loadavgEnd: [1, 0.8, 0.5],
      settings: {
        duration: 10,
        warmup: 3,
        connections: [10, 50],
        databases: ['sqlite', 'postgres'],
        scenarios: ['ceiling', 'send', 'fetch', 'fetch-and-ack', 'login'],
        scale: false,
        bcryptCost: 12,
        logLevel: 'info',
      },
    },
    runs,
    scale: [
      {
        db: 'sqlite',
        users: 10,
        messages: 100,
        loadSeconds: 1,
        comparisons: [],
        plans: [{ name: 'queue of a device', sql: 'select 1', plan: 'SEARCH messages USING INDEX x' }],
      },
    ],
    targets: targetsOf(runs, []),
    failures: failuresOf(runs),
    ok: false,
  }
}

t.test('the Markdown report has a row per run, the targets, the plans and the failures', async (tt) => {
  const md = markdown(fixedResults())
  const rows = md.split('\n').filter((l) => /^\| (sqlite|postgres) \|/.test(l))
  tt.equal(rows.length, fixedRuns.length)
  tt.ok(
    rows.includes('| sqlite | send | 50 | 4800 | 5 | 20 | 40 | 0 | 0 | 120 | 40.0% | 0.5 | 20.0% | 1.5 |  |'),
    'a row with every column',
  )
  tt.match(md, /\| sqlite \| fetch-and-ack \| 50 \|.*700 acks\/s/)
  tt.match(md, /4 logins\/s\/core/)
  tt.match(md, /2 cores \(Test CPU\)/)
  tt.match(md, /\| sqlite send @50 ≥ 35% of ceiling \| ✅ met \| 40\.0% \(4800 req\/s\) \|/)
  tt.match(md, /SEARCH messages USING INDEX x/)
  tt.match(md, /\*\*FAILED:\*\*/)
})

t.test('the chart has a bar and a label per run', async (tt) => {
  const svg = svgChart(fixedResults())
  tt.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  tt.ok(svg.trimEnd().endsWith('</svg>'))
  tt.equal(svg.match(/<rect x="130" y="\d+" width="[\d.]+" height="14"/g)?.length, fixedRuns.length)
  tt.match(svg, /4800 req\/s @50 \(40\.0%\)/)
  tt.match(svg, />postgres</)
  tt.notMatch(svg, /NaN|undefined/)
})

t.test('options', async (tt) => {
  const o = parseOptions([])
  tt.same(o.connections, [10, 50])
  tt.same(o.databases, ['sqlite', 'postgres'])
  tt.equal(o.duration, 10)
  tt.equal(o.build, true)
  tt.same(parseOptions(['--connections', '50,2,50', '--scenarios', 'send,ceiling', '--source']).connections, [2, 50])
  tt.equal(parseOptions(['--source']).build, false)
  tt.throws(() => parseOptions(['--scenarios', 'send,bogus']), /unknown "bogus"/)
  tt.throws(() => parseOptions(['--db', 'mysql']), /--db/)
  tt.throws(() => parseOptions(['--duration', '0']), /--duration/)
  tt.throws(() => parseOptions(['--connections', '1.5']), /whole numbers/)
})

t.test('a tiny real run produces the result files', async (tt) => {
  const out = mkdtempSync(join(tmpdir(), 'bench-test-'))
  tt.teardown(() => rmSync(out, { recursive: true, force: true }))
  const args = [
    '--import',
    'tsx',
    'scripts/bench/index.ts',
    '--source',
    '--db',
    database,
    '--duration',
    '1',
    '--warmup',
    '0',
    '--connections',
    '2',
    '--scenarios',
    'ceiling,send,fetch',
    '--out',
    out,
  ]
  if (process.env.TEST_POSTGRES_URL) args.push('--postgres-url', process.env.TEST_POSTGRES_URL)
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() },
    timeout: 110_000,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise<number | null>((ok) => child.once('close', ok))
  tt.equal(code, 0, `exit code (stderr: ${stderr.slice(-2000)})`)

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results
  tt.equal(results.ok, true)
  tt.same(results.failures, [])
  tt.same(
    results.runs.map((r) => [r.db, r.scenario, r.connections]),
    [
      [database, 'ceiling', 2],
      [database, 'send', 2],
      [database, 'fetch', 2],
    ],
  )
  for (const r of results.runs) {
    tt.ok(r.requests > 0, `${r.scenario}: requests were answered`)
    tt.equal(r.non2xx, 0, `${r.scenario}: no non-2xx`)
    tt.ok(r.peakRssMb > 0 && r.hwmMb >= r.peakRssMb, `${r.scenario}: memory sampled`)
    tt.ok(r.latencyMs.p99 >= r.latencyMs.p50, `${r.scenario}: latency percentiles`)
    tt.ok(r.serverCpuMsPerRequest > 0, `${r.scenario}: server CPU measured`)
  }
  tt.equal(results.runs[1].statusCodes['201'], results.runs[1].requests, 'every send answered 201')
  tt.equal(results.runs[2].statusCodes['200'], results.runs[2].requests, 'every fetch answered 200')
  tt.ok(results.runs[1].ratioToCeiling! > 0, 'ratio to the ceiling')
  tt.equal(results.meta.settings.duration, 1)
  tt.equal(results.targets.length, 7)

  const md = readFileSync(join(out, 'results.md'), 'utf8')
  tt.match(md, new RegExp(`\\| ${database} \\| send \\| 2 \\|`))
  tt.match(stdout, /\| DB \| Scenario \|/, 'the table is printed')
  tt.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg[^]*<\/svg>\s*$/)
})
