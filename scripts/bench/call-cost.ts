// What statement-cost.ts and hot-statements.ts share: their options, a fresh migrated database of
// each engine asked for, and timing one call at a time.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Knex } from 'knex'
import { createKnex, migrateLatest } from '../../db/connection.js'
import { freshDatabase } from './databases.js'
import type { Database } from './options.js'
import { postgresCpuSeconds } from './processes.js'

/** `--n` calls per measurement, `--db` engines, `--postgres-url` where throwaway databases are made. */
export function callCostOptions() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '5000' },
      db: { type: 'string', default: 'sqlite,postgres' },
      'postgres-url': {
        type: 'string',
        default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      },
    },
  })
  return { n: Number(values.n), engines: values.db.split(',') as Database[], postgresUrl: values['postgres-url'] }
}

/** Runs `probe` on a fresh, migrated database of each engine in turn, dropped afterwards. */
export async function onFreshDatabases(
  engines: Database[],
  postgresUrl: string,
  probe: (knex: Knex, engine: Database) => Promise<void>,
): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'call-cost-'))
  try {
    for (const engine of engines) {
      const fresh = await freshDatabase(engine, tmp, postgresUrl)
      const knex = createKnex(fresh.url)
      try {
        await migrateLatest(knex)
        await probe(knex, engine)
      } finally {
        await knex.destroy()
        await fresh.drop()
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/**
 * Runs `fn` `calls` times one at a time after `warmup` calls (JIT, statements prepared on the
 * connection), and prints this process's CPU and the wall time per unit of work (`per` units in
 * each call: a transaction of several sends), and PostgreSQL's CPU when `engine` is postgres.
 */
export async function measureCalls(
  label: string,
  fn: () => Promise<unknown>,
  { engine, calls, per = 1, warmup = 300 }: { engine: Database; calls: number; per?: number; warmup?: number },
): Promise<void> {
  for (let i = 0; i < warmup / per; i++) await fn()
  const cpu = process.cpuUsage()
  const pgBefore = engine === 'postgres' ? postgresCpuSeconds() : 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) await fn()
  const n = calls * per
  const wallUs = Number(process.hrtime.bigint() - started) / 1000 / n
  const used = process.cpuUsage(cpu)
  const cpuUs = (used.user + used.system) / n
  const pgUs =
    engine === 'postgres'
      ? `   PostgreSQL ${(((postgresCpuSeconds() - pgBefore) * 1e6) / n).toFixed(0).padStart(4)} µs`
      : ''
  console.log(
    `  ${label.padEnd(52)} CPU ${cpuUs.toFixed(1).padStart(6)} µs   wall ${wallUs.toFixed(1).padStart(6)} µs${pgUs}`,
  )
}
