// What scripts/run-tests.ts reads from tap's output (`--reporter=tap`), and the closing line it
// prints, kept apart so that a test can hold both to tap's real format and to .ci/run's parser.

export type TapCounts = { total: number; pass: number; fail: number; todo: number; skip: number }

/** tap's closing summary, `# { total: 6, pass: 2, fail: 1, todo: 1, skip: 2 }` (zero counts left out). */
export function tapCounts(out: string): TapCounts | undefined {
  const line = out
    .split('\n')
    .reverse()
    .find((l) => /^# \{ ?total: \d+/.test(l))
  if (!line) return undefined
  const count = (key: string) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(line)?.[1] ?? 0)
  return { total: count('total'), pass: count('pass'), fail: count('fail'), todo: count('todo'), skip: count('skip') }
}

export type NotRun = { file: string; name: string; reason: string; kind: 'SKIP' | 'TODO' }

/** Every test point tap reported as skipped or todo, with the test file it is in and the reason given. */
export function notRun(out: string): NotRun[] {
  const found: NotRun[] = []
  let file = ''
  for (const line of out.split('\n')) {
    const subtest = /^# Subtest: (.*)$/.exec(line)
    if (subtest) file = subtest[1]
    const m = /^\s*ok \d+ - (.*?) # (SKIP|TODO)\b ?(.*)$/.exec(line)
    if (!m) continue
    // Unindented, it is a test file's own line: the file planned no tests at all (`t.plan(0, why)`).
    const whole = line.startsWith('ok ')
    found.push({
      file: whole ? m[1] : file,
      name: whole ? '(the whole file)' : m[1],
      reason: m[3],
      kind: m[2] as NotRun['kind'],
    })
  }
  return found
}

export type Tally = { passed: number; failed: number; skipped: number }

/**
 * One pass of the suite: tap's passes and failures (a run that failed without a failing test point,
 * a crash, counts once), and its skips and todos. Under CI a test that did not run is a failure too.
 */
export function tallyPass(counts: TapCounts | undefined, exitedOk: boolean, ci: boolean): Tally {
  const skipped = (counts?.skip ?? 0) + (counts?.todo ?? 0)
  const fail = counts?.fail ?? 0
  return {
    passed: counts?.pass ?? 0,
    failed: fail + (exitedOk || fail > 0 ? 0 : 1) + (ci ? skipped : 0),
    skipped,
  }
}

/** The last line of `npm test`, which CI reads: `N passed, N failed`, then `, N skipped` when any were. */
export const closingLine = ({ passed, failed, skipped }: Tally) =>
  `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`
