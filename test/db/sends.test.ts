import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Outgoing, Sender } from '../../db/sends.js'
import { build, deviceBody, uniqueEmail } from '../helper.js'

// The send fast paths on their own (db/sends.ts): each queues only when everything the slow path
// would check holds, and otherwise queues nothing at all, so that the route's slow path can name
// the refusal. Both engines, on the same fresh databases as the route tests.

const LIMIT = 3
const sender: Sender = {
  sender_address: 'alice.1',
  sender_registration_id: 42,
  sender_email: 'alice@example.com',
  sender_device_id: 1,
  sender_timestamp: 1234,
}

/** An account with devices numbered 1..n, registration IDs 101..100+n; their row keys by number. */
async function account(app: FastifyInstance, n: number) {
  const user = await app.db.users.create(uniqueEmail('recipient'), 'not-a-real-hash')
  const rows = new Map<number, number>()
  for (let number = 1; number <= n; number++)
    rows.set(
      number,
      await app.db.devices.insert(user.id, deviceBody(100 + number, `${user.email}.${number}`, 0), number),
    )
  return { email: user.email, userId: user.id, rows }
}

const toEach = (n: number, content = 'c'): Outgoing[] =>
  Array.from({ length: n }, (_, i) => ({ deviceId: i + 1, registrationId: 101 + i, content: `${content}${i + 1}` }))

async function queued(app: FastifyInstance) {
  return (await app.db.knex('messages').select('*').orderBy('id')) as Record<string, unknown>[]
}

t.test('toDevice queues for the device with that registration ID, with the sender and its clock', async (tt) => {
  const { app } = await build(tt)
  const bob = await account(app, 2)
  const row = await app.db.sends.toDevice(bob.email.toUpperCase(), 102, 'hello', sender, LIMIT)
  tt.ok(row)
  tt.equal(row!.recipient_device_id, bob.rows.get(2))
  tt.equal(row!.recipient_address, `${bob.email}.2`)
  const [stored] = await queued(app)
  tt.equal(Number(stored.id), row!.id)
  tt.equal(stored.content, 'hello')
  tt.equal(stored.sender_email, sender.sender_email)
  tt.equal(Number(stored.sender_timestamp), 1234)
  tt.equal(Number(stored.created_at), row!.created_at)
})

t.test('toDevice queues nothing: no such account, no such registration ID, a full queue', async (tt) => {
  const { app } = await build(tt)
  const bob = await account(app, 1)
  tt.equal(await app.db.sends.toDevice('nobody@example.com', 101, 'x', sender, LIMIT), undefined, 'no account')
  tt.equal(await app.db.sends.toDevice(bob.email, 999, 'x', sender, LIMIT), undefined, 'no such device')
  // Beyond PostgreSQL's 32-bit column: no device, and no database error either.
  for (const id of [2 ** 32 + 101, -(2 ** 31) - 1, 2 ** 53 + 2])
    tt.equal(await app.db.sends.toDevice(bob.email, id, 'x', sender, LIMIT), undefined, `registration ID ${id}`)
  for (let i = 0; i < LIMIT; i++) tt.ok(await app.db.sends.toDevice(bob.email, 101, `m${i}`, sender, LIMIT))
  tt.equal(await app.db.sends.toDevice(bob.email, 101, 'over', sender, LIMIT), undefined, 'full')
  tt.equal((await queued(app)).length, LIMIT, 'only what fitted')
})

t.test('toAccount queues one message per device, all of them, and answers them by device number', async (tt) => {
  const { app } = await build(tt)
  const bob = await account(app, 3)
  const sent = await app.db.sends.toAccount(bob.email, -1, toEach(3), sender, LIMIT)
  tt.ok(sent)
  tt.same([...sent!.keys()].sort(), [1, 2, 3])
  const rows = await queued(app)
  tt.equal(rows.length, 3)
  for (const [number, { id, deviceRowId }] of sent!) {
    tt.equal(deviceRowId, bob.rows.get(number), `device ${number}: its row`)
    const row = rows.find((r) => Number(r.id) === id)!
    tt.equal(row.content, `c${number}`, `device ${number}: its own content`)
    tt.equal(Number(row.recipient_device_id), deviceRowId)
    tt.equal(row.recipient_address, `${bob.email}.${number}`)
  }
})

t.test("toAccount leaves out the sender's own device (a send to one's own other devices)", async (tt) => {
  const { app } = await build(tt)
  const alice = await account(app, 3)
  const others = toEach(3).filter((m) => m.deviceId !== 2)
  const sent = await app.db.sends.toAccount(alice.email, alice.rows.get(2)!, others, sender, LIMIT)
  tt.same([...sent!.keys()].sort(), [1, 3])
  tt.equal(
    await app.db.sends.toAccount(alice.email, alice.rows.get(2)!, toEach(3), sender, LIMIT),
    undefined,
    'a message for the sending device itself is an extra device',
  )
})

t.test('toAccount queues nothing at all unless the messages name exactly the devices, all with room', async (tt) => {
  const { app } = await build(tt)
  const bob = await account(app, 3)
  const all = toEach(3)
  const cases: [string, Outgoing[], string?][] = [
    ['a device missing', all.slice(0, 2)],
    ['an extra device', [...all, { deviceId: 4, registrationId: 104, content: 'c4' }]],
    ['a stale registration ID', [all[0], { ...all[1], registrationId: 999 }, all[2]]],
    ["another device's registration ID", [all[0], { ...all[1], registrationId: 103 }, all[2]]],
    ['no messages', []],
    ['a registration ID beyond 32 bits', [all[0], { ...all[1], registrationId: 2 ** 32 + 102 }, all[2]]],
    ['a device number beyond 32 bits', [all[0], all[1], { ...all[2], deviceId: 2 ** 32 + 3 }]],
    ['no such account', all, 'nobody@example.com'],
  ]
  for (const [name, messages, email] of cases)
    tt.equal(await app.db.sends.toAccount(email ?? bob.email, -1, messages, sender, LIMIT), undefined, name)
  tt.equal((await queued(app)).length, 0, 'nothing stored by any of them')

  // Device 3 full: devices 1 and 2 get nothing either.
  for (let i = 0; i < LIMIT; i++) tt.ok(await app.db.sends.toDevice(bob.email, 103, `fill${i}`, sender, LIMIT))
  tt.equal(await app.db.sends.toAccount(bob.email, -1, all, sender, LIMIT), undefined, 'one device full')
  const rows = await queued(app)
  tt.equal(rows.length, LIMIT, 'only the fill')
  tt.ok(rows.every((r) => Number(r.recipient_device_id) === bob.rows.get(3)))
})

t.test('the queue counter follows the fast paths (the bound holds for the slow path too)', async (tt) => {
  const { app } = await build(tt)
  const bob = await account(app, 2)
  await app.db.sends.toAccount(bob.email, -1, toEach(2), sender, LIMIT)
  await app.db.sends.toDevice(bob.email, 101, 'again', sender, LIMIT)
  tt.equal(await app.db.messages.queueLength(bob.rows.get(1)!), 2)
  tt.equal(await app.db.messages.queueLength(bob.rows.get(2)!), 1)
})
