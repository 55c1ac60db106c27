import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

// Every HTTP answer a test receives goes through the contract checker (test/spec-check.ts). A raw
// `app.inject(...)` or `fetch(...)` is allowed only inside a function that also calls
// checkAgainstSpec (a checking wrapper such as the helper's client), or under a comment saying
// `off-contract:` and why (on the call's statement or on a statement around it), for answers the
// contract does not describe on purpose: the docs pages, the metrics endpoint, a start-up poll.

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const MARKER = /off-contract:\s*\S.{9,}/

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'node_modules' || e.name.startsWith('fixture')
        ? []
        : files(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  )
}

const isRawRequest = (n: ts.Node): n is ts.CallExpression =>
  ts.isCallExpression(n) &&
  ((ts.isIdentifier(n.expression) && n.expression.text === 'fetch') ||
    (ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'inject'))

function callsChecker(fn: ts.Node): boolean {
  let found = false
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'checkAgainstSpec')
      found = true
    if (!found) ts.forEachChild(n, visit)
  }
  visit(fn)
  return found
}

/** The raw requests of a source text that neither a checking wrapper nor an off-contract comment covers. */
function uncheckedRequests(name: string, text: string): string[] {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true)
  const marked = (n: ts.Node) =>
    (ts.getLeadingCommentRanges(text, n.getFullStart()) ?? []).some((c) => MARKER.test(text.slice(c.pos, c.end)))
  const out: string[] = []
  const visit = (n: ts.Node) => {
    if (isRawRequest(n)) {
      let covered = false
      let wrapperSeen = false
      for (let a: ts.Node | undefined = n; a && !covered; a = a.parent) {
        if (ts.isStatement(a) && marked(a)) covered = true
        if (!covered && !wrapperSeen && ts.isFunctionLike(a)) {
          wrapperSeen = true // only the innermost function counts as the wrapper
          covered = callsChecker(a)
        }
      }
      if (!covered) {
        const { line } = source.getLineAndCharacterOfPosition(n.getStart())
        out.push(`${name}:${line + 1}: ${n.getText().split('\n')[0].slice(0, 80)}`)
      }
    }
    ts.forEachChild(n, visit)
  }
  visit(source)
  return out
}

t.test('no test reads an HTTP answer past the contract checker unless it says why', async (tt) => {
  const found = files(join(root, 'test')).flatMap((f) => uncheckedRequests(relative(root, f), readFileSync(f, 'utf8')))
  tt.same(found, [], 'each of these checks its answer against openapi.yaml, or is marked off-contract: with the reason')
})

t.test('the scan itself: what it lets through and what it catches', async (tt) => {
  const wrapper = [
    'async function get(app, url) {',
    '  const res = await app.inject({ url })',
    "  for (const p of checkAgainstSpec('GET', url, res)) t.fail(p)",
    '  return res',
    '}',
  ].join('\n')
  tt.same(uncheckedRequests('a.ts', wrapper), [], 'a checking wrapper')
  tt.same(
    uncheckedRequests('b.ts', `t.test('x', async () => {\n  const res = await app.inject({ url: '/auth/users/' })\n})`),
    ["b.ts:2: app.inject({ url: '/auth/users/' })"],
    'a raw inject in a test',
  )
  tt.same(uncheckedRequests('c.ts', `const r = await fetch(base + '/health/live')`), [
    "c.ts:1: fetch(base + '/health/live')",
  ])
  tt.same(
    uncheckedRequests(
      'd.ts',
      `// off-contract: the docs page is no operation of the spec\nconst r = await fetch(base + '/docs')`,
    ),
    [],
    'marked, with a reason',
  )
  tt.same(
    uncheckedRequests('e.ts', `// off-contract:\nconst r = await fetch(base + '/docs')`),
    ["e.ts:2: fetch(base + '/docs')"],
    'a marker without a reason does not count',
  )
  tt.same(
    uncheckedRequests(
      'f.ts',
      `function outer() {\n  checkAgainstSpec('GET', '/', res)\n  const inner = () => fetch('/x')\n}`,
    ),
    ["f.ts:3: fetch('/x')"],
    'only the innermost function counts as the wrapper',
  )
})
