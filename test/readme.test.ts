import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ENV_VARIABLES } from '../lib/config.js'

// The README is what an operator deploys from: its configuration table has to name exactly what
// the code reads, and the commands it shows have to exist.
const root = (file: string) => fileURLToPath(new URL(`../${file}`, import.meta.url))
const readme = readFileSync(root('README.md'), 'utf8')

const HEADER = ['Variable', 'Default', 'Production', 'Meaning']
const PRODUCTION = /^(required|recommended|—)(\W|$)/

type Row = { line: number; cells: string[] }

// Pipes inside a cell are escaped (`up\|down`).
const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim())

/** The rows of every table headed `Variable | Default | Production | Meaning`, with their line numbers. */
function configRows(markdown: string): Row[] {
  const lines = markdown.split('\n')
  const rows: Row[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || cellsOf(lines[i]).join('|') !== HEADER.join('|')) continue
    for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) rows.push({ line: i + 1, cells: cellsOf(lines[i]) })
  }
  return rows
}

/** Everything wrong with the table against the variables the config reads; empty when right. */
function tableProblems(rows: Row[], variables: readonly string[]): string[] {
  const problems: string[] = []
  const listed = new Map<string, number>()
  for (const { line, cells } of rows) {
    if (cells.length !== HEADER.length) {
      problems.push(`line ${line}: ${cells.length} cells, not ${HEADER.length}`)
      continue
    }
    const names = [...cells[0].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])
    if (names.length === 0) problems.push(`line ${line}: no variable in the first cell`)
    for (const name of names) {
      if (listed.has(name)) problems.push(`line ${line}: ${name} is already listed on line ${listed.get(name)}`)
      listed.set(name, line)
    }
    HEADER.slice(1).forEach((column, i) => {
      if (cells[i + 1] === '') problems.push(`line ${line}: empty ${column} cell`)
    })
    if (cells[2] !== '' && !PRODUCTION.test(cells[2]))
      problems.push(`line ${line}: Production must start with required, recommended or —`)
  }
  for (const name of variables)
    if (!listed.has(name)) problems.push(`${name} is read by the config but missing from the table`)
  for (const [name, line] of listed)
    if (!variables.includes(name)) problems.push(`line ${line}: ${name} is not read by the config`)
  return problems
}

/** The lines of the `## <title>` section, up to the next `## ` heading. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`)
  if (start < 0) return ''
  const end = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, end < 0 ? undefined : end)
}

t.test('the configuration table lists exactly the variables lib/config.ts reads', async (tt) => {
  const rows = configRows(readme)
  tt.ok(rows.length > 0, 'the README has a Variable | Default | Production | Meaning table')
  tt.same(tableProblems(rows, ENV_VARIABLES), [])
})

t.test('ENV_VARIABLES covers every variable lib/config.ts reads by name', async (tt) => {
  const source = readFileSync(root('lib/config.ts'), 'utf8')
  const read = [...source.matchAll(/\benv(?:\.([A-Z0-9_]+)|\[['"]([A-Z0-9_]+)['"]\])/g)].map((m) => m[1] ?? m[2])
  tt.ok(read.includes('DATABASE_NAME'), 'the scan finds the direct reads')
  tt.same(
    read.filter((name) => !ENV_VARIABLES.includes(name)),
    [],
  )
})

t.test('the table check catches a missing, an unknown and an incomplete row', async (tt) => {
  const markdown = [
    '| Variable | Default | Production | Meaning |',
    '|---|---|---|---|',
    '| `PORT` (or `OTHER_PORT`) | `8000` | — | Port. |',
    '| `HOST` | | required | Address. |',
    '| `LOG_LEVEL` | `info` | maybe | Level. |',
  ].join('\n')
  tt.same(tableProblems(configRows(markdown), ['PORT', 'HOST', 'LOG_LEVEL', 'SECRET_KEY']), [
    'line 4: empty Default cell',
    'line 5: Production must start with required, recommended or —',
    'SECRET_KEY is read by the config but missing from the table',
    'line 3: OTHER_PORT is not read by the config',
  ])
})

t.test('the configuration table and the metrics, docs and logs notes are in the Deployment section', async (tt) => {
  const deployment = section(readme, 'Deployment')
  tt.ok(deployment, 'there is a "## Deployment" section')
  tt.equal(configRows(deployment).length, configRows(readme).length, 'every configuration row is in Deployment')
  tt.match(deployment, /\n### Metrics, API docs and logs\n/)
})

t.test('every npm script the README mentions exists', async (tt) => {
  const scripts = JSON.parse(readFileSync(root('package.json'), 'utf8')).scripts as Record<string, string>
  const mentioned = new Set([...readme.matchAll(/\bnpm (?:run ([\w:-]+)|(start|test)\b)/g)].map((m) => m[1] ?? m[2]))
  tt.ok(mentioned.has('migrate'), 'the scan finds `npm run` commands')
  tt.same(
    [...mentioned].filter((name) => !(name in scripts)),
    [],
  )
})
