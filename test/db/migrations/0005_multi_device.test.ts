import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createKnex } from '../../../db/connection.js'
import { migrationSource } from '../../../db/migrations/index.js'
import { database, freshPostgresUrl } from '../../helper.js'

// An operator upgrading a server that already has accounts, devices, sessions and queued messages:
// migration 0005 makes every existing device its account's device 1 and keeps everything working.

async function databaseUrl(tt: Test) {
  if (database === 'postgres') return freshPostgresUrl(tt)
  const file = join(tmpdir(), `migration-0005-${randomBytes(4).toString('hex')}.sqlite`)
  tt.teardown(() => {
    for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true })
  })
  return file
}

t.test('0005 on a populated database: devices become number 1, messages learn their sender', async (tt) => {
  const knex = createKnex(await databaseUrl(tt))
  tt.teardown(() => knex.destroy())
  const config = { migrationSource }
  for (const name of ['0001_initial', '0002_pq_prekeys', '0003_hardening', '0004_queue_counter'])
    await knex.migrate.up({ ...config, name })

  const now = Date.now()
  const [alice, bob, gone] = ['alice@example.com', 'bob@example.com', 'gone@example.com']
  const userIds: number[] = []
  for (const email of [alice, bob, gone]) {
    const [row] = await knex('users')
      .insert({ email, password_hash: 'x', password_changed_at: now, created_at: now })
      .returning('id')
    userIds.push(typeof row === 'object' ? row.id : row)
  }
  const device = async (userId: number, address: string, registrationId: number) => {
    const [row] = await knex('devices')
      .insert({ user_id: userId, address, identity_key: 'k', registration_id: registrationId, created_at: now })
      .returning('id')
    return typeof row === 'object' ? row.id : row
  }
  const aliceDevice = await device(userIds[0], 'alice.1', 11)
  const bobDevice = await device(userIds[1], 'bob.1', 22)
  await knex('sessions').insert({ id: 'alice-session', user_id: userIds[0], created_at: now, expires_at: now + 1e6 })
  const message = (from: string, fromRegistration: number) => ({
    recipient_device_id: bobDevice,
    sender_address: from,
    sender_registration_id: fromRegistration,
    recipient_address: 'bob.1',
    content: 'c',
    created_at: now,
  })
  // One from alice, whose device is there, and one from a sender whose device is gone.
  await knex('messages').insert([message('alice.1', 11), message('gone.1', 33)])

  await knex.migrate.latest(config)

  const devices = await knex('devices').orderBy('id').select('id', 'device_id', 'name', 'last_seen_at')
  tt.same(
    devices.map((d) => [d.id, d.device_id, d.name]),
    [
      [aliceDevice, 1, null],
      [bobDevice, 1, null],
    ],
    'every device is its account device 1, without a name',
  )
  tt.ok(
    devices.every((d) => Number(d.last_seen_at) === now - (now % 86_400_000)),
    'last seen: the day it was created',
  )
  const users = await knex('users').orderBy('id').select('last_device_id')
  tt.same(
    users.map((u) => u.last_device_id),
    [1, 1, 0],
    'accounts with a device have used number 1; the next device gets 2',
  )
  const session = await knex('sessions').where({ id: 'alice-session' }).first('device_id')
  tt.equal(session.device_id, null, 'existing sessions stay unbound, acting as before')
  const queued = await knex('messages').orderBy('id').select('sender_email', 'sender_device_id', 'sender_timestamp')
  tt.same(
    queued.map((m) => [m.sender_email, m.sender_device_id, m.sender_timestamp]),
    [
      [alice, 1, null],
      [null, null, null],
    ],
    "a queued message knows its sender when the sender's device is still there",
  )
  const duplicate = knex('devices').insert({
    user_id: userIds[0],
    device_id: 2,
    address: 'alice.2',
    identity_key: 'k',
    registration_id: 11,
    created_at: now,
  })
  await tt.rejects(duplicate, 'a registration ID is unique within the account')

  // Back to 0004, whatever came after 0005.
  const lastApplied = async () => ((await knex.migrate.list(config))[0] as { name: string }[]).at(-1)?.name
  while ((await lastApplied()) !== '0004_queue_counter') await knex.migrate.down(config)
  tt.same(
    (await knex('devices').orderBy('id').select('id')).map((d) => d.id),
    [aliceDevice, bobDevice],
    'and 0005 rolls back, keeping the single devices',
  )
})
