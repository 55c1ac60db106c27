import t from 'tap'
import { buildApp } from '../../app.js'
import { build, ciphertext, client, database, userWithDevice, type Api } from '../helper.js'

// Honest queue limits: a full queue refuses (409 recipient_queue_full) and stores nothing, expired
// messages are never delivered and are purged, and the limit holds against concurrent senders.

type Person = Awaited<ReturnType<typeof userWithDevice>>
const send = (api: Api, from: Person, to: Person, body?: string) =>
  api.post(
    `/messages/${from.registrationId}/`,
    { recipient: to.email, message: ciphertext(to.registrationId, body) },
    { token: from.token },
  )
const inbox = (api: Api, who: Person) => api.get(`/messages/${who.registrationId}/`, { token: who.token })

t.test('a full queue refuses the next message and stores nothing; room comes back after a delete', async (tt) => {
  const { app, api } = await build(tt, { maxQueuedMessages: 3 })
  const [alice, bob] = [await userWithDevice(api), await userWithDevice(api)]
  for (let i = 0; i < 3; i++) tt.equal((await send(api, alice, bob)).status, 201)
  const full = await send(api, alice, bob, 'refused')
  tt.equal(full.status, 409)
  tt.equal(full.body.code, 'recipient_queue_full')
  tt.match(full.body.message, /3 undelivered/)
  const queued = (await inbox(api, bob)).body as { id: number; content: string }[]
  tt.equal(queued.length, 3, 'still three queued')
  tt.notOk(
    queued.some((m) => m.content.includes('refused')),
    'the refused message was not stored',
  )
  tt.equal(await app.db.messages.countAll(), 3)
  // Another recipient's queue is not affected by Bob's.
  tt.equal((await send(api, bob, alice)).status, 201)
  tt.same((await api.delete(`/messages/${bob.registrationId}/`, [queued[0].id], { token: bob.token })).body, [
    'message_deleted',
  ])
  tt.equal((await send(api, alice, bob)).status, 201, 'a delete makes room')
  tt.equal((await send(api, alice, bob)).status, 409)
})

t.test('concurrent senders cannot overfill a queue', async (tt) => {
  const { app, config, api } = await build(tt, { maxQueuedMessages: 10 })
  // On PostgreSQL the sends race through two instances (two pools) on one database.
  const apis = [api]
  if (database === 'postgres') {
    const other = await buildApp(config, { logger: false })
    tt.teardown(() => other.close())
    apis.push(client(other, tt))
  }
  const bob = await userWithDevice(api)
  const senders = await Promise.all(Array.from({ length: 5 }, () => userWithDevice(api)))
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => send(apis[i % apis.length], senders[i % senders.length], bob)),
  )
  const statuses = results.map((r) => r.status)
  tt.equal(statuses.filter((s) => s === 201).length, 10, 'exactly the limit was accepted')
  tt.equal(statuses.filter((s) => s === 409).length, 30, 'the rest were refused')
  tt.equal(await app.db.messages.countAll(), 10)
})

t.test('expired messages are not delivered, do not count against the limit, and are purged', async (tt) => {
  const { app, config, api } = await build(tt, { maxQueuedMessages: 2, messagePurgeInterval: 0 })
  const [alice, bob] = [await userWithDevice(api), await userWithDevice(api)]
  const first = await send(api, alice, bob)
  const second = await send(api, alice, bob)
  tt.equal((await send(api, alice, bob)).status, 409)
  // Age the first message past MESSAGE_TTL (and the second to just inside it).
  const now = Date.now()
  await app.db
    .knex('messages')
    .where({ id: first.body.id })
    .update({ created_at: now - config.messageTtl * 1000 - 1 })
  await app.db
    .knex('messages')
    .where({ id: second.body.id })
    .update({ created_at: now - config.messageTtl * 1000 + 60_000 })
  tt.same(
    ((await inbox(api, bob)).body as { id: number }[]).map((m) => m.id),
    [second.body.id],
    'the expired message is not delivered',
  )
  const third = await send(api, alice, bob)
  tt.equal(third.status, 201, 'a full queue holding an expired message makes room for a new one')
  tt.same(
    ((await inbox(api, bob)).body as { id: number }[]).map((m) => m.id),
    [second.body.id, third.body.id],
  )
  tt.equal(
    await app.db.knex('messages').where({ id: first.body.id }).first(),
    undefined,
    'the expired message was deleted',
  )
  await app.db
    .knex('messages')
    .where({ id: second.body.id })
    .update({ created_at: now - config.messageTtl * 1000 - 1 })
  tt.equal(await app.messageExpiry.purge(), 1)
  tt.same(
    ((await inbox(api, bob)).body as { id: number }[]).map((m) => m.id),
    [third.body.id],
  )
  tt.equal(await app.messageExpiry.purge(), 0, 'nothing left to purge')
})

t.test('the purge job runs by itself every MESSAGE_PURGE_INTERVAL and removes only expired messages', async (tt) => {
  const { app, config, api } = await build(tt, { messagePurgeInterval: 1 })
  const [alice, bob] = [await userWithDevice(api), await userWithDevice(api)]
  const old = await send(api, alice, bob)
  const fresh = await send(api, alice, bob)
  await app.db
    .knex('messages')
    .where({ id: old.body.id })
    .update({ created_at: Date.now() - config.messageTtl * 1000 - 5 })
  const deadline = Date.now() + 10_000
  while ((await app.db.messages.countAll()) > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  tt.same(
    (await app.db.knex('messages').select('id')).map((r) => Number(r.id)),
    [fresh.body.id],
  )
})

t.test('purging in batches, from two instances at once, deletes every expired message once', async (tt) => {
  const { app, config, api } = await build(tt, { messagePurgeInterval: 0 })
  const other = database === 'postgres' ? await buildApp(config, { logger: false }) : app
  if (other !== app) tt.teardown(() => other.close())
  const bob = await userWithDevice(api)
  const device = await app.db.knex('devices').where({ user_id: bob.id }).first('id')
  const expired = Date.now() - config.messageTtl * 1000 - 1000
  // 12,000 expired rows (more than two purge batches) and 3 live ones.
  const rows = Array.from({ length: 12_003 }, (_, i) => ({
    recipient_device_id: device.id,
    sender_address: 'x.1',
    sender_registration_id: 1,
    recipient_address: `${bob.email}.1`,
    content: `m${i}`,
    created_at: i < 12_000 ? expired : Date.now(),
  }))
  await app.db.knex.batchInsert('messages', rows, 500)
  const [a, b] = await Promise.all([app.messageExpiry.purge(), other.messageExpiry.purge()])
  // One instance (SQLite) runs one purge at a time: the second call shares the first's.
  if (other === app) tt.equal(a, b, 'one purge shared')
  const both = other === app ? a : a + b
  tt.ok(both <= 12_000, 'no message counted twice')
  // An instance that stepped aside leaves work to the other; one more pass finishes any remainder.
  const late = await app.messageExpiry.purge()
  tt.equal(both + late, 12_000, 'every expired message deleted exactly once')
  tt.equal(await app.db.messages.countAll(), 3, 'live messages kept')
})

t.test("a device's queue length stays exact through sends, acks, purges and refusals", async (tt) => {
  const { app, config, api } = await build(tt, { maxQueuedMessages: 5, messagePurgeInterval: 0 })
  const [alice, bob, carol] = [await userWithDevice(api), await userWithDevice(api), await userWithDevice(api)]
  const deviceOf = async (who: Person) =>
    (await app.db.knex('devices').where({ user_id: who.id }).first('id')).id as number
  const [bobDevice, carolDevice] = [await deviceOf(bob), await deviceOf(carol)]
  const exact = async (label: string) => {
    for (const id of [bobDevice, carolDevice]) {
      const [{ n }] = await app.db.knex('messages').where({ recipient_device_id: id }).count({ n: '*' })
      tt.equal(await app.db.messages.queueLength(id), Number(n), `${label}: device ${id}`)
    }
  }
  const sent = []
  for (let i = 0; i < 7; i++) sent.push(await send(api, alice, i % 2 ? carol : bob))
  await exact('after sends')
  const ids = ((await inbox(api, bob)).body as { id: number }[]).map((m) => m.id)
  await api.delete(`/messages/${bob.registrationId}/`, [ids[0], ids[1], 999999], { token: bob.token })
  await exact('after an ack with an unknown id')
  await app.db
    .knex('messages')
    .where({ id: ids[2] })
    .update({ created_at: Date.now() - config.messageTtl * 1000 - 1 })
  tt.equal(await app.messageExpiry.purge(), 1)
  await exact('after a purge')
  tt.equal(
    await app.db.messages.countAll(),
    Number((await app.db.knex('messages').count({ n: '*' }))[0].n),
    'the total is their sum',
  )
  // Carol's device goes, and with it its queue; a send meanwhile finds no device.
  tt.equal((await api.delete('/device/', undefined, { token: carol.token })).status, 204)
  tt.equal(await app.db.messages.queueLength(carolDevice), undefined)
  const queued = {
    recipient_device_id: carolDevice,
    sender_address: 'a.1',
    sender_registration_id: 1,
    recipient_address: 'c.1',
    content: 'x',
  }
  tt.equal(await app.db.messages.insertBounded(queued, 5), undefined, 'nothing is queued for a device that is gone')
  tt.equal(
    Number((await app.db.knex('messages').where({ recipient_device_id: carolDevice }).count({ n: '*' }))[0].n),
    0,
    'its queue went with it',
  )
  const [{ n }] = await app.db.knex('messages').where({ recipient_device_id: bobDevice }).count({ n: '*' })
  tt.equal(await app.db.messages.queueLength(bobDevice), Number(n), 'the other queue is unaffected')
})
