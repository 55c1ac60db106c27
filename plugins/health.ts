import fp from 'fastify-plugin'

type CheckResult = 'ok' | 'down'

declare module 'fastify' {
  interface FastifyInstance {
    health: {
      /** Adds a dependency to the readiness probe; `check` rejects (or hangs) when it is unreachable. */
      addCheck(name: string, check: () => Promise<unknown>): void
      /** Runs every check at once; each that fails or takes longer than CHECK_TIMEOUT_MS is `down`. */
      readiness(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }>
    }
  }
}

// Probes time out after a few seconds (Docker's default is 30 s, Kubernetes' 1 s): answer before
// they do, rather than leave a hanging dependency (an unreachable PostgreSQL waits up to a minute
// for a connection) to hold the probe.
const CHECK_TIMEOUT_MS = 2000

function withTimeout(check: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<CheckResult>((ok) => (timer = setTimeout(() => ok('down'), CHECK_TIMEOUT_MS)))
  const run = Promise.resolve()
    .then(check)
    .then(
      (): CheckResult => 'ok',
      (): CheckResult => 'down',
    )
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Readiness checks, registered by the plugins that own each dependency (db, rate-limit for Redis,
 * mailer for SMTP), so that the probe uses their connections instead of opening its own.
 */
export default fp(
  async (app) => {
    const checks = new Map<string, () => Promise<unknown>>()
    app.decorate('health', {
      addCheck(name: string, check: () => Promise<unknown>) {
        checks.set(name, check)
      },
      async readiness() {
        const entries = await Promise.all(
          [...checks].map(async ([name, check]) => [name, await withTimeout(check)] as const),
        )
        const results = Object.fromEntries(entries)
        return { ready: entries.every(([, r]) => r === 'ok'), checks: results }
      },
    })
  },
  { name: 'health' },
)
