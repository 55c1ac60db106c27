import type { Knex } from 'knex'
import type { SecretBox } from '../lib/secret-box.js'
import { authFailuresRepository, usedTokensRepository } from './auth-failures.js'
import type { Queryable } from './dialect.js'
import { devicesRepository } from './devices.js'
import { prepare, run } from './driver.js'
import { keysRepository } from './keys.js'
import { messagesRepository } from './messages.js'
import { mfaRepository } from './mfa.js'
import { provisioningRepository } from './provisioning.js'
import { sendsRepository } from './sends.js'
import { sessionsRepository } from './sessions.js'
import { usersRepository } from './users.js'

const NOTIFY_ALL = prepare('SELECT pg_notify(?, p) FROM unnest(?::text[]) WITH ORDINALITY AS n(p, i) ORDER BY i')

/** Every repository, running its statements on `q`: the pool, or one transaction. */
function repositoriesOn(q: Queryable, box: SecretBox) {
  return {
    users: usersRepository(q),
    sessions: sessionsRepository(q),
    mfa: mfaRepository(q, box),
    devices: devicesRepository(q),
    keys: keysRepository(q),
    messages: messagesRepository(q),
    sends: sendsRepository(q),
    authFailures: authFailuresRepository(q),
    usedTokens: usedTokensRepository(q),
    provisioning: provisioningRepository(q),
  }
}

export type TransactionRepositories = ReturnType<typeof repositoriesOn>

type PoolStats = { used: number; free: number; pending: number; max: number }
type TarnPool = {
  numUsed(): number
  numFree(): number
  numPendingAcquires(): number
  numPendingCreates(): number
  max: number
}

/**
 * The database as the rest of the server sees it: repositories on the pool, and `transaction`,
 * which hands the callback the same repositories bound to one transaction (committed when the
 * callback resolves, rolled back when it throws).
 */
export function createRepositories(knex: Knex, box: SecretBox) {
  return {
    ...repositoriesOn(knex, box),
    /** For migrations, the CLI and tests that inspect rows; routes and plugins never use it (`npm run lint` checks). */
    knex,
    transaction: <T>(work: (repos: TransactionRepositories) => Promise<T>): Promise<T> =>
      knex.transaction((trx) => work(repositoriesOn(trx, box))),
    /** One round trip, for the readiness probe. */
    ping: async (): Promise<void> => void (await knex.raw('select 1')),
    /**
     * PostgreSQL NOTIFY on `channel` of each payload, in order, in one statement (plugins/bus.ts);
     * delivered to listeners when this statement commits.
     */
    notify: async (channel: string, payloads: string[]): Promise<void> =>
      void (await run(knex, NOTIFY_ALL, [channel, payloads])),
    /** The connection pool's state (knex pools with tarn on both engines), for metrics. */
    poolStats(): PoolStats {
      const pool = (knex.client as { pool?: TarnPool }).pool
      return {
        used: pool?.numUsed() ?? 0,
        free: pool?.numFree() ?? 0,
        pending: (pool?.numPendingAcquires() ?? 0) + (pool?.numPendingCreates() ?? 0),
        max: pool?.max ?? 0,
      }
    },
  }
}

export type Repositories = ReturnType<typeof createRepositories>
