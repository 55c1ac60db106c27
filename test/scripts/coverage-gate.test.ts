import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { coverageGate, documentedAnswers, findMisses, judge, parseGaps, readSeen } from '../../scripts/coverage-gate.js'

const spec = {
  paths: {
    '/a/': {
      get: { operationId: 'getA', responses: { '200': {}, '401': {}, '429': {} } },
      post: { operationId: 'postA', responses: { '200': {}, '201': {}, '400': {}, default: {} } },
    },
    '/ws/': { get: { operationId: 'socket', responses: { '101': {}, '426': {} } } },
  },
}
const documented = documentedAnswers(spec)
const seen = (...pairs: string[]) => new Set(pairs)

t.test(
  'documented answers: successes (one needed) apart from errors (each needed); default requires nothing',
  async (tt) => {
    tt.same(documented, [
      { operationId: 'getA', success: ['200'], errors: ['401', '429'] },
      { operationId: 'postA', success: ['200', '201'], errors: ['400'] },
      { operationId: 'socket', success: ['101'], errors: ['426'] },
    ])
  },
)

t.test(
  'an operation reached only with a 401 is not exercised: its success and its other errors are misses',
  async (tt) => {
    tt.same(findMisses(documented, seen('getA 401', 'postA 201', 'postA 400', 'socket 101', 'socket 426')), [
      { operationId: 'getA', status: '200' },
      { operationId: 'getA', status: '429' },
    ])
    tt.same(
      findMisses(documented, seen('postA 400')).filter((m) => m.operationId === 'postA'),
      [{ operationId: 'postA', status: '200|201' }],
      'one miss for the successes, of which any one will do',
    )
    tt.same(
      findMisses(
        documented,
        seen('getA 200', 'getA 401', 'getA 429', 'postA 200', 'postA 400', 'socket 101', 'socket 426'),
      ),
      [],
      'everything seen: no miss',
    )
    tt.equal(findMisses(documented, seen()).length, 7, 'nothing seen: every answer is a miss')
  },
)

t.test('the gaps file: each entry with a reason, optionally for one database', async (tt) => {
  tt.same(parseGaps('getA 429: no test turns the throttle on here\nsocket 426 on sqlite: one reason or another\n'), [
    { operationId: 'getA', status: '429', reason: 'no test turns the throttle on here' },
    { operationId: 'socket', status: '426', database: 'sqlite', reason: 'one reason or another' },
  ])
  tt.same(parseGaps('{}'), [])
  tt.throws(() => parseGaps('getA 429: ""'), /give the reason/)
  tt.throws(() => parseGaps('getA 429:\n'), /give the reason/)
  tt.throws(() => parseGaps('getA: because reasons\n'), /write it as/)
})

t.test('the verdict: unlisted misses fail, listed ones are accepted per database, stale entries fail', async (tt) => {
  const all = ['getA 200', 'getA 401', 'getA 429', 'postA 201', 'postA 400', 'socket 101', 'socket 426']
  const gaps = parseGaps(
    [
      'getA 429: the throttle is never turned on for it',
      'socket 426 on postgres: only a postgres run lacks it',
      'postA 418: no such documented answer',
      'postA 400: the suite produces it anyway',
    ].join('\n'),
  )
  const v = judge(
    documented,
    {
      sqlite: seen(...all.filter((p) => p !== 'getA 429' && p !== 'socket 426')),
      postgres: seen(...all.filter((p) => p !== 'getA 429' && p !== 'socket 426')),
    },
    gaps,
  )
  tt.same(
    v.databases.map((d) => d.answers),
    [7, 7],
    'a success per operation and each error status: 3 + 2 + 2',
  )
  tt.same(
    v.databases.map((d) => [
      d.database,
      d.accepted.map((m) => `${m.operationId} ${m.status}`),
      d.unaccepted.map((m) => `${m.operationId} ${m.status}`),
    ]),
    [
      ['sqlite', ['getA 429'], ['socket 426']],
      ['postgres', ['getA 429', 'socket 426'], []],
    ],
  )
  tt.same(
    v.stale.map(({ gap, why }) => `${gap.operationId} ${gap.status}: ${why}`),
    [
      'postA 418: is not a documented answer of openapi.yaml',
      'postA 400: was produced on sqlite and postgres: remove it',
    ],
  )
  const partly = judge(
    documented,
    { sqlite: seen(...all), postgres: seen(...all.filter((p) => p !== 'getA 429')) },
    parseGaps('getA 429: missing on one database'),
  )
  tt.same(partly.stale, [], 'a gap still missed on one database is not stale')
})

t.test('the gate as npm test runs it: pairs read from the test processes, the real spec and gaps file', async (tt) => {
  const dir = mkdtempSync(join(tmpdir(), 'coverage-gate-'))
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'sqlite'))
  writeFileSync(join(dir, 'sqlite', '1.json'), JSON.stringify(['getLiveness 200', 'getMe 401']))
  writeFileSync(join(dir, 'sqlite', '2.json'), JSON.stringify(['getMe 200']))
  tt.same([...readSeen(join(dir, 'sqlite'))].sort(), ['getLiveness 200', 'getMe 200', 'getMe 401'])
  const lines: string[] = []
  const errors: string[] = []
  const out = { log: (l: string) => lines.push(l), error: (l: string) => errors.push(l) }
  tt.same(coverageGate(dir, ['sqlite'], out), { passed: 1, failed: 1 }, 'sqlite misses answers; the gaps file is sound')
  tt.match(lines[0], /^sqlite: \d+ of \d+ documented answers exercised/)
  tt.equal(errors[0], 'sqlite: documented answers no test produced (not in test/coverage-gaps.yaml):')
  tt.ok(errors.includes('  getMe 429'), 'a miss is named')
  tt.notOk(errors.includes('  getMe 401'), 'an answer seen is not')
  tt.notOk(errors.includes('  getLiveness 200'))
  tt.same(
    coverageGate(dir, ['sqlite', 'postgres'], out),
    { passed: 1, failed: 2 },
    'postgres, with nothing seen, fails too',
  )
})
