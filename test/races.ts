import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../lib/config.js'
import { buildApp } from '../app.js'
import { build, client, database } from './helper.js'

// Shared by the race tests (test/routes/key-races.test.ts, multi-device-races.test.ts): several app
// instances on one PostgreSQL database, and the proof that a race's database work overlapped.

type T = Parameters<typeof build>[0]

export async function apps(tt: T, overrides: Partial<Config> = {}, instances = 2) {
  const { app, config, api } = await build(tt, overrides)
  const apis = [api]
  const all = [app]
  while (apis.length < instances) {
    if (database === 'sqlite') {
      apis.push(api)
      continue
    }
    const other = await buildApp(config, { logger: false })
    tt.teardown(() => other.close())
    apis.push(client(other, tt))
    all.push(other)
  }
  return { app, apis, all }
}

/** The name of a race test, saying on SQLite that its transactions run one at a time. */
export const race = (name: string) =>
  database === 'sqlite' ? `${name} (SQLite: one connection, so its transactions run one at a time, by design)` : name

type Pool = { numUsed(): number; max: number }
/**
 * Watches the apps' connection pools until `stop()`: the most connections out at once over all
 * pools, how many pools had one out at some point, and the largest pool. Sampled at every turn of
 * the event loop, which is where a query's connection is held while PostgreSQL works on it.
 */
export function watchPools(instances: FastifyInstance[]) {
  const pools = instances.map((a) => (a.db.knex.client as { pool?: Pool }).pool)
  let peak = 0
  const used = new Set<number>()
  let running = true
  const sample = () => {
    const out = pools.map((p) => p?.numUsed() ?? 0)
    for (const [i, n] of out.entries()) if (n > 0) used.add(i)
    peak = Math.max(
      peak,
      out.reduce((a, b) => a + b, 0),
    )
    if (running) setImmediate(sample)
  }
  sample()
  return {
    stop: () => {
      running = false
      return { peak, poolsUsed: used.size, poolMax: Math.max(...pools.map((p) => p?.max ?? 0)) }
    },
  }
}

/** Asserts that the database work of a race overlapped (PostgreSQL), or that it could not (SQLite). */
export function assertOverlap(tt: Test, seen: { peak: number; poolsUsed: number; poolMax: number }, instances: number) {
  if (database === 'sqlite') {
    // What makes these tests sequential there; should it change, their names would no longer be true.
    tt.equal(seen.poolMax, 1, 'SQLite: a pool of one connection, so one statement or transaction at a time')
    return
  }
  tt.equal(seen.poolsUsed, instances, `each of the ${instances} pools had connections out`)
  tt.ok(seen.peak >= 2, `the requests overlapped in the database: ${seen.peak} connections out at once`)
}
