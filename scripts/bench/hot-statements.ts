// What each statement of the hot paths costs the server process, one at a time, through the same
// repository functions the routes call (db/*.ts): the session check, the caller's devices, the
// recipient look-up, the bounded insert, reading 20 queued messages and deleting them.
//   npx tsx scripts/bench/hot-statements.ts [--n 5000] [--db sqlite,postgres]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Knex } from 'knex'
import { createKnex, migrateLatest } from '../../db/connection.js'
import { createRepositories } from '../../db/index.js'
import { secretBox } from '../../lib/secret-box.js'
import { freshDatabase } from './databases.js'

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
const N = Number(values.n)

async function measure(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 300; i++) await fn()
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await fn()
  const wallUs = Number(process.hrtime.bigint() - started) / 1000 / N
  const used = process.cpuUsage(cpu)
  const cpuUs = (used.user + used.system) / N
  console.log(`  ${label.padEnd(40)} CPU ${cpuUs.toFixed(1).padStart(6)} µs   wall ${wallUs.toFixed(1).padStart(6)} µs`)
}

async function probe(knex: Knex) {
  const db = createRepositories(knex, secretBox('x'.repeat(32), 'bench'))
  const user = async (email: string) => {
    const u = await db.users.create(email, 'x')
    const [row] = await knex('devices')
      .insert({ user_id: u.id, device_id: 1, address: email, identity_key: 'k', registration_id: 7, created_at: 0 })
      .returning('id')
    return { userId: u.id, deviceId: typeof row === 'object' ? row.id : row }
  }
  const a = await user('a@example.com')
  const b = await user('b@example.com')
  await db.sessions.create('sid', a.userId, Date.now() + 3_600_000, null)
  const m = (to: number) => ({
    recipient_device_id: to,
    sender_address: 'a@example.com',
    sender_registration_id: 7,
    recipient_address: 'b@example.com',
    content: 'x'.repeat(200),
  })
  for (let i = 0; i < 20; i++) await db.messages.insertBounded(m(b.deviceId), 100000)
  await measure('sessions.active', () => db.sessions.active('sid'))
  await measure('sessions.activeWithDevices', () => db.sessions.activeWithDevices('sid'))
  await measure('devices.listByUser', () => db.devices.listByUser(a.userId))
  await measure('devices.accountByEmail', () => db.devices.accountByEmail('b@example.com'))
  await measure('messages.listFor (20 rows)', () => db.messages.listFor(b.deviceId))
  await measure('messages.insertBounded + deleteFor', async () => {
    const row = await db.messages.insertBounded(m(a.deviceId), 100000)
    await db.messages.deleteFor(a.deviceId, [row!.id])
  })
  await measure('messages.insertBounded', () => db.messages.insertBounded(m(a.deviceId), 1_000_000))
  // What committing several sends together (a group commit) would save per send.
  for (const group of [5, 20]) {
    const per = Math.floor(N / group)
    const started = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < per; i++)
      await db.transaction(async (tx) => {
        for (let j = 0; j < group; j++) await tx.messages.insertBounded(m(a.deviceId), 1_000_000)
      })
    const used = process.cpuUsage(started)
    const n = per * group
    console.log(
      `  ${`messages.insertBounded, ${group} per transaction`.padEnd(40)} CPU ${((used.user + used.system) / n).toFixed(1).padStart(6)} µs   wall ${(Number(process.hrtime.bigint() - t0) / 1000 / n).toFixed(1).padStart(6)} µs`,
    )
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'hot-statements-'))
try {
  for (const engine of values.db.split(',') as ('sqlite' | 'postgres')[]) {
    const fresh = await freshDatabase(engine, tmp, values['postgres-url'])
    const knex = createKnex(fresh.url)
    try {
      await migrateLatest(knex)
      console.log(`${engine}: ${N} calls each, one at a time`)
      await probe(knex)
    } finally {
      await knex.destroy()
      await fresh.drop()
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
