// `npm run lint` (and `npm test`, first): every static check, each named, all run even when one
// fails, so one run shows every finding. Exit 1 on any.
//   format and lint   Biome (biome.json): formatting, line width 120, no shadowing, no unused variables
//   layers            dependency-cruiser (.dependency-cruiser.cjs): one-way imports, no cycles
//   unused code       knip (knip.json): unused files, exports and dependencies
//   line width        no line over 120 characters (Biome formats to 120 but leaves long strings and comments)
//   database seam     routes and plugins reach the database only through repositories
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

type Check = { name: string; run: () => string[] }

/** A command's findings: its output when it exits non-zero, nothing when it passes. */
function command(cmd: string, args: string[]): string[] {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } })
  if (r.status === 0) return []
  return [`${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || `${cmd} exited with ${r.status ?? r.signal}`]
}

/** Routes and plugins use `db.transaction` and the repositories; knex itself stays in db/ (and plugins/db.ts). */
function databaseSeam(): string[] {
  const findings: string[] = []
  for (const dir of ['routes', 'plugins']) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const path = join(dir, file)
      if (path === join('plugins', 'db.ts')) continue
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\.knex\b|from 'knex'/.test(line)) findings.push(`${path}:${i + 1}: uses knex directly: ${line.trim()}`)
        })
    }
  }
  return findings
}

const MAX_LINE = 120

/** Every tracked or new TypeScript file but the generated ones. */
function sourceFiles(): string[] {
  const r = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { encoding: 'utf8' })
  return r.stdout.split('\n').filter((f) => f && !f.endsWith('sdk/schema.d.ts') && existsSync(f))
}

function lineWidth(): string[] {
  const findings: string[] = []
  for (const file of sourceFiles()) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.length > MAX_LINE) findings.push(`${file}:${i + 1}: ${line.length} characters`)
      })
  }
  return findings
}

const checks: Check[] = [
  { name: 'format and lint (biome)', run: () => command('npx', ['biome', 'check', '--max-diagnostics=50', '.']) },
  { name: 'layers (dependency-cruiser)', run: () => command('npm', ['run', '-s', 'lint:deps']) },
  { name: 'unused code (knip)', run: () => command('npx', ['knip', '--no-progress']) },
  { name: 'line width', run: lineWidth },
  { name: 'database seam', run: databaseSeam },
]

let failed = 0
for (const check of checks) {
  const findings = check.run()
  if (findings.length === 0) {
    console.log(`lint: ${check.name}: clean`)
    continue
  }
  failed++
  console.error(`lint: ${check.name}: FAILED\n${findings.join('\n')}\n`)
}
if (failed) {
  console.error(`lint: ${failed} of ${checks.length} checks failed (npm run format fixes formatting).`)
  process.exit(1)
}
