// `npm run audit:deps`: `npm audit --omit=dev`, failing (exit 1) on any high or critical advisory
// for a runtime dependency. When the registry offers no advisory service (a mirror that answers the
// bulk endpoint with 405, as on our CI machine), it says so loudly and exits 0: no advisory data is
// not the same as a vulnerable dependency, and the lockfile pins every version either way.
import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'

type Report = {
  metadata?: { vulnerabilities?: Record<string, number> }
  message?: string
  vulnerabilities?: Record<string, { severity: string }>
}

/** The verdict on `npm audit --json` output: the exit code and the line to print. */
export function judgeAudit(report: Report): { code: 0 | 1; line: string } {
  const counts = report.metadata?.vulnerabilities
  if (!counts)
    return {
      code: 0,
      line:
        "*** dependency audit NOT RUN: the registry's advisory service is unavailable " +
        `(${report.message ?? 'no data'}) ***`,
    }
  const names = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name]) => name)
  const serious = (counts.high ?? 0) + (counts.critical ?? 0)
  return {
    code: serious ? 1 : 0,
    line:
      `dependency audit: ${counts.total ?? 0} advisories for runtime dependencies, ${serious} high or critical` +
      (names.length ? `: ${names.join(', ')}` : ''),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 })
  let report: Report
  try {
    report = JSON.parse(r.stdout || '{}')
  } catch {
    console.error(`dependency audit: npm audit printed no JSON (${r.error?.message ?? r.stderr.trim().split('\n')[0]})`)
    process.exit(1)
  }
  const { code, line } = judgeAudit(report)
  ;(code ? console.error : console.log)(line)
  process.exit(code)
}
