// The machine the suite runs on: whether it is CI, and whether the services the suite uses answer.
// scripts/run-tests.ts chooses its passes with these; test/requirements.ts skips, outside CI only,
// the tests that need a service that does not answer.
import { connect } from 'node:net'
import knex from 'knex'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** CI is any non-empty CI variable (CI=true, CI=1, CI=yes), as CI services set it. */
export const inCI = (env: NodeJS.ProcessEnv = process.env): boolean => (env.CI ?? '') !== ''

/** Whether Redis at `url` answers PING within 3 s. */
export function redisReachable(url = REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(3000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')))
  })
}

/** Whether PostgreSQL at `url` answers a query within 3 s. */
export async function postgresReachable(url = POSTGRES_URL): Promise<boolean> {
  const db = knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 3000 })
  try {
    await db.raw('select 1')
    return true
  } catch {
    return false
  } finally {
    await db.destroy()
  }
}
