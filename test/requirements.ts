import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { inCI, POSTGRES_URL, postgresReachable, REDIS_URL, redisReachable } from '../scripts/test-machine.js'

// Some tests need more than Node: Debian's chromium, docker-compose, Redis, PostgreSQL. On a
// developer's machine without one of them those tests are skipped, with a reason that says what is
// missing and how to get it (scripts/run-tests.ts lists every such skip loudly at the end). Under CI
// they are never skipped: they run, and fail, and the runner fails any skip as well.

export type Tool = 'chromium' | 'docker-compose' | 'redis' | 'postgres'

export const CHROMIUM = '/usr/bin/chromium'
export { inCI, postgresReachable, REDIS_URL, redisReachable }

/** What a skip reason says, for each tool: what was looked for, and how to get it. */
export const HOW_TO_GET: Record<Tool, string> = {
  chromium: `Debian's chromium at ${CHROMIUM} (apt-get install chromium)`,
  'docker-compose': 'docker-compose on PATH (apt-get install docker-compose)',
  redis: `Redis at ${REDIS_URL} (apt-get install redis-server and start it, or set TEST_REDIS_URL)`,
  postgres: `PostgreSQL at ${POSTGRES_URL} (apt-get install postgresql and start it, or set TEST_POSTGRES_URL)`,
}

/** Every skip reason made here starts with this, so that the runner can tell them from other skips. */
export const SKIP_MARK = 'needs '

/**
 * The tap options of a test that needs `missing` tools to be there: skipped outside CI with a reason
 * naming each missing tool and how to get it; under CI never skipped, so that the test fails.
 */
export function decide(missing: Tool[], env: NodeJS.ProcessEnv = process.env): { skip: string | false } {
  if (missing.length === 0 || inCI(env)) return { skip: false }
  return { skip: missing.map((tool) => SKIP_MARK + HOW_TO_GET[tool]).join('; ') }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const onPath = (name: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && executable(join(d, name)))

const probes: Record<Tool, () => boolean | Promise<boolean>> = {
  chromium: () => executable(CHROMIUM),
  'docker-compose': () => onPath('docker-compose'),
  redis: () => redisReachable(),
  postgres: () => postgresReachable(),
}

/** The tap options for a test that needs these tools: `t.test(name, await requires('redis'), fn)`. */
export async function requires(...tools: Tool[]): Promise<{ skip: string | false }> {
  const present = await Promise.all(tools.map((tool) => probes[tool]()))
  return decide(tools.filter((_, i) => !present[i]))
}
