import t from 'tap'
import { judgeAudit } from '../../scripts/audit-deps.js'

const report = (high: number, critical: number, vulnerabilities = {}) => ({
  metadata: { vulnerabilities: { info: 0, low: 1, moderate: 2, high, critical, total: 3 + high + critical } },
  vulnerabilities,
})

t.test('high or critical advisories fail the audit, naming the packages', async (tt) => {
  const high = judgeAudit(report(1, 0, { 'some-lib': { severity: 'high' }, other: { severity: 'low' } }))
  tt.equal(high.code, 1)
  tt.match(high.line, /1 high or critical: some-lib$/)
  tt.equal(judgeAudit(report(0, 2, { a: { severity: 'critical' }, b: { severity: 'critical' } })).code, 1)
})

t.test('low and moderate advisories pass', async (tt) => {
  tt.same(judgeAudit(report(0, 0)), {
    code: 0,
    line: 'dependency audit: 3 advisories for runtime dependencies, 0 high or critical',
  })
})

t.test('a registry without the advisory service is reported as not run, not as clean', async (tt) => {
  const verdict = judgeAudit({
    message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  })
  tt.equal(verdict.code, 0)
  tt.match(verdict.line, /NOT RUN.*405/)
})
