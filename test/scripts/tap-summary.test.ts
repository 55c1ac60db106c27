import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { closingLine, notRun, tallyPass, tapCounts } from '../../scripts/tap-summary.js'
import { HOW_TO_GET, SKIP_MARK } from '../requirements.js'

// What npm test reads from tap, held to tap's real output: a fixture with a pass, a failure, a test
// skipped for a missing tool and a todo, run through tap itself outside CI and under CI.

const root = fileURLToPath(new URL('../../', import.meta.url))
const NO_REDIS = 'redis://127.0.0.1:1' // nothing listens on port 1

function tap(env: Record<string, string>) {
  const r = spawnSync(
    'npx',
    ['tap', '--reporter=tap', '--disable-coverage', 'test/scripts/fixtures/tap-format.test.ts'],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TEST_REDIS_URL: NO_REDIS, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    },
  )
  return { ok: r.status === 0, out: r.stdout }
}

t.test('outside CI: the missing tool is a skip, named with how to get it, and counted', async (tt) => {
  const { ok, out } = tap({})
  tt.notOk(ok, 'the failing point fails the run')
  const counts = tapCounts(out)
  tt.same(counts, { total: 4, pass: 1, fail: 1, todo: 1, skip: 1 }, "tap's closing summary, read whole")
  const missed = notRun(out)
  tt.same(
    missed.map((n) => [n.file, n.name, n.kind]),
    [
      ['test/scripts/fixtures/tap-format.test.ts', 'needs Redis', 'SKIP'],
      ['test/scripts/fixtures/tap-format.test.ts', 'not done yet', 'TODO'],
    ],
  )
  tt.match(missed[0].reason, SKIP_MARK, 'the reason says what is needed')
  tt.match(missed[0].reason, `Redis at ${NO_REDIS}`, 'where it was looked for')
  tt.match(missed[0].reason, HOW_TO_GET.redis.replace(/^.*?\(/, '('), 'and how to get it')
  tt.same(
    tallyPass(counts, ok, false),
    { passed: 1, failed: 1, skipped: 2 },
    'skips and todos are counted, not dropped',
  )
  tt.same(tallyPass(counts, ok, true), { passed: 1, failed: 3, skipped: 2 }, 'under CI each of them fails')
})

t.test('under any non-empty CI, the test runs even with an inherited TEST_REDIS=skip', async (tt) => {
  for (const ci of ['true', '1', 'yes']) {
    const { out } = tap({ CI: ci, TEST_REDIS: 'skip' })
    const counts = tapCounts(out)
    tt.equal(counts?.skip, 0, `CI=${ci}: nothing skipped`)
    tt.equal(counts?.pass, 2, `CI=${ci}: the test that needs Redis ran`)
  }
})

t.test('a crash without a failing point counts as one failure', async (tt) => {
  tt.same(tallyPass(undefined, false, false), { passed: 0, failed: 1, skipped: 0 })
  tt.same(tallyPass({ total: 3, pass: 3, fail: 0, todo: 0, skip: 0 }, true, true), { passed: 3, failed: 0, skipped: 0 })
})

t.test("the closing line is what .ci/run's parser takes, and nothing else is", async (tt) => {
  const script = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')
  const pattern = /grep -E '([^']+)' "\$out"/.exec(script)?.[1]
  tt.ok(pattern, '.ci/run greps the closing line')
  const parses = (line: string) => new RegExp(pattern!).test(line)
  tt.equal(closingLine({ passed: 12, failed: 0, skipped: 0 }), '12 passed, 0 failed')
  tt.equal(closingLine({ passed: 12, failed: 3, skipped: 3 }), '12 passed, 3 failed, 3 skipped')
  for (const line of ['12 passed, 0 failed', '12 passed, 3 failed, 3 skipped']) tt.ok(parses(line), line)
  for (const line of ['sqlite: 12 passed, 0 failed', '12 passed, 0 failed, 3 skipped, 1 todo', '12 passed'])
    tt.notOk(parses(line), `not: ${line}`)
})
