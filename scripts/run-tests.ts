// `npm test`: checks the generated types are current, type-checks (server, SDK, web client), lints
// the spec, then runs the tap suite on SQLite and, side by side, on a fresh PostgreSQL database per
// test file, and prints the combined count. PostgreSQL is required under CI (any non-empty CI) or
// TEST_POSTGRES=required; elsewhere a machine without it runs SQLite only and says so loudly. Tests
// that need a tool the machine lacks (test/requirements.ts) are skipped outside CI and listed loudly
// at the end; under CI every skipped or todo test counts as failed.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditLogs } from './log-audit.js'
import { closingLine, notRun, tallyPass, tapCounts, type NotRun } from './tap-summary.js'
import { inCI, postgresReachable } from './test-machine.js'
import { coverageGate } from './coverage-gate.js'

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
    encoding: 'utf8',
  })
  process.stdout.write(r.stdout ?? '')
  return { ok: r.status === 0, out: r.stdout ?? '' }
}

/** Runs a command with its output collected (printed by the caller when the command is done). */
const runAsync = (cmd: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ ok: boolean; out: string }>((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.on('close', (code) => resolve({ ok: code === 0, out }))
  })

const pre = [
  ['npx', ['tsx', 'scripts/codegen.ts', '--check']],
  ['npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['npx', ['tsc', '--noEmit', '-p', 'sdk/tsconfig.json']], // the SDK compiles on its own, without the server
  ['npx', ['tsc', '--noEmit', '-p', 'web/tsconfig.json']], // the web client, against the DOM and the SDK only
  ['npx', ['redocly', 'lint', '--format', 'summary', 'openapi.yaml']],
  // Format, lint, layers (a wrong-direction import or a cycle), unused code: scripts/lint.ts.
  ['npm', ['run', '-s', 'lint']],
] as const
for (const [cmd, args] of pre) {
  if (!run(cmd, [...args]).ok) {
    console.error(`\n${[cmd, ...args].join(' ')} failed`)
    console.log('0 passed, 1 failed')
    process.exit(1)
  }
}

const ci = inCI()
const requirePostgres = ci || process.env.TEST_POSTGRES === 'required'
const databases = ['sqlite']
let postgresPassSkipped = false
if (await postgresReachable()) databases.push('postgres')
else if (requirePostgres)
  databases.push('postgres') // and let it fail: CI must not skip PostgreSQL
else {
  postgresPassSkipped = true
  console.warn(
    '\n*** PostgreSQL is not reachable: the suite runs on SQLite only. Set TEST_POSTGRES_URL to include it. ***\n',
  )
}

const extra = process.argv.slice(2)
const coverageDir = mkdtempSync(join(tmpdir(), 'operation-coverage-'))
const logDir = mkdtempSync(join(tmpdir(), 'suite-logs-'))
const securityLines: string[] = []
const didNotRun: (NotRun & { db: string })[] = []
let passed = 0
let failed = 0
let skipped = 0
let allOk = true
// The passes run side by side (one tap process per database, each with its own database per test
// file): a whole run takes about as long as its longer pass. TEST_PASSES=sequential runs one after
// the other, for a machine too small for both.
const sideBySide = process.env.TEST_PASSES !== 'sequential'
/** The files of a pass: those named for the other engine (`*-postgres.test.ts`, `*-sqlite.test.ts`) are left out. */
const otherEngine = (db: string) => (db === 'sqlite' ? /-postgres\.test\.ts$/ : /-sqlite\.test\.ts$/)
const startPass = (db: string) => {
  // Several instances on one database is a PostgreSQL set-up (SQLite is single-instance): those
  // tests start their own PostgreSQL-backed processes and run in the PostgreSQL pass only, as do
  // files named *-postgres.test.ts; files named *-sqlite.test.ts run in the SQLite pass only.
  const files = extra.filter((f) => !otherEngine(db).test(f))
  if (extra.length > 0 && files.length === 0) return Promise.resolve({ ok: true, out: `# no file for ${db}\n` })
  const only =
    extra.length > 0
      ? []
      : db === 'sqlite'
        ? ['--exclude=test/multi-instance/**', '--exclude=**/*-postgres.test.ts', '--exclude=**/@(fixture*(s)|dist)/**']
        : ['--exclude=**/*-sqlite.test.ts', '--exclude=**/@(fixture*(s)|dist)/**']
  return runAsync('npx', ['tap', '--reporter=tap', ...only, ...files], {
    TEST_DB: db,
    OPERATION_COVERAGE_DIR: join(coverageDir, db),
    LOG_CAPTURE_DIR: join(logDir, db),
  })
}
const started = sideBySide ? databases.map(startPass) : []
for (const [i, db] of databases.entries()) {
  const r = await (sideBySide ? started[i] : startPass(db))
  console.log(`\n=== test suite on ${db} ===`)
  process.stdout.write(r.out)
  for (const m of r.out.matchAll(/^\s*# (security: .*)$/gm)) securityLines.push(`${db}: ${m[1]}`)
  const counts = tapCounts(r.out)
  const pass = tallyPass(counts, r.ok, ci)
  didNotRun.push(...notRun(r.out).map((n) => ({ ...n, db })))
  console.log(
    `${db}: ${closingLine(pass)}${pass.skipped ? ` (${counts?.skip ?? 0} skipped, ${counts?.todo ?? 0} todo)` : ''}`,
  )
  passed += pass.passed
  failed += pass.failed
  skipped += pass.skipped
  allOk &&= r.ok
}
// Every documented answer of every operation, on each database, produced by some test or listed as
// an accepted gap (scripts/coverage-gate.ts); a whole run only, since a file or two cannot cover everything.
if (extra.length === 0) {
  const gate = coverageGate(coverageDir, databases)
  passed += gate.passed
  failed += gate.failed
}
// No secret the suite handled may appear in anything the server logged, at trace level, during it;
// and every source of secrets that carried traffic in this pass must have recorded some.
for (const db of databases) {
  const audit = auditLogs(join(logDir, db))
  const sources = Object.entries(audit.bySource).map(([source, n]) => `${source} ${n}`)
  const searched = [
    `${audit.asTokens} as whole tokens`,
    `${audit.byParts} by their parts`,
    `${audit.unsearchable} not searchable (no part long enough)`,
  ]
  securityLines.push(
    `${db}: security: logs: ${audit.secrets} secrets recorded (${sources.join(', ') || 'none'}), searched for ` +
      `in ${audit.lines} log lines (${(audit.logBytes / 1e6).toFixed(1)} MB): ${searched.join(', ')}; ` +
      `${audit.leaks.length} found`,
  )
  const problems: string[] = []
  if (audit.lines === 0) problems.push('no log captured')
  if (audit.silent.length)
    problems.push(`sources that carried traffic but recorded no secret: ${audit.silent.join(', ')}`)
  const shown = audit.leaks.slice(0, 5).map((secret) => `${secret.slice(0, 12)}…`)
  if (audit.leaks.length) problems.push(`secrets found in the log: ${shown.join(', ')}`)
  if (problems.length) {
    console.error(`${db}: log audit: ${problems.join('; ')}`)
    failed += 1
  } else passed += 1
}
console.log(`\n${securityLines.join('\n')}`)
rmSync(logDir, { recursive: true, force: true })
rmSync(coverageDir, { recursive: true, force: true })

// What did not run, loudly, and how to get it to run; under CI each of these has counted as failed.
if (didNotRun.length || postgresPassSkipped) {
  const lines = didNotRun.map(
    (n) => `***   ${n.db}: ${n.file}: ${n.name}: ${n.kind}${n.reason ? ` (${n.reason})` : ''}`,
  )
  if (postgresPassSkipped) lines.unshift('***   the whole PostgreSQL pass (PostgreSQL is not reachable)')
  // Skip reasons name their Debian package (test/requirements.ts): one command installs them all.
  const reasons = didNotRun.map((n) => n.reason).join(' ') + (postgresPassSkipped ? ' apt-get install postgresql' : '')
  const packages = [...new Set([...reasons.matchAll(/apt-get install ([\w-]+)/g)].map((m) => m[1]))]
  const count = `${didNotRun.length} test(s) did not run`
  console.warn(
    [
      '',
      `*** ${count}${ci ? ', and each counts as failed: under CI nothing may be skipped' : ''}:`,
      ...lines,
      ...(packages.length
        ? [`*** To run them: apt-get install ${packages.join(' ')} (as root), start the services.`]
        : []),
    ].join('\n'),
  )
}
console.log(`\n${closingLine({ passed, failed, skipped })}`)
process.exit(allOk && failed === 0 ? 0 : 1)
