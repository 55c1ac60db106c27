// What each statement of the hot paths costs, one call at a time, through the same repository
// functions the routes call (db/*.ts): this process's CPU (the server's share), PostgreSQL's own
// CPU (every `postgres` process on this machine, when PostgreSQL runs here) and the wall time of a
// call. Then two experiments for the next steps: committing several sends in one transaction (a
// group commit), and a send's insert without the queue-counter trigger of migration 0004.
//   npx tsx scripts/bench/hot-statements.ts [--n 5000] [--db sqlite,postgres]
import type { Knex } from 'knex'
import { createRepositories } from '../../db/index.js'
import { secretBox } from '../../lib/secret-box.js'
import { callCostOptions, measureCalls, onFreshDatabases } from './call-cost.js'
import type { Database } from './options.js'

const { n: N, engines, postgresUrl } = callCostOptions()

async function probe(knex: Knex, engine: Database) {
  const measure = (label: string, fn: () => Promise<unknown>, calls = N, per = 1) =>
    measureCalls(label, fn, { engine, calls, per })
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
  const sender = {
    sender_address: 'a@example.com',
    sender_registration_id: 7,
    sender_email: 'a@example.com',
    sender_device_id: 1,
    sender_timestamp: null,
  }
  for (let i = 0; i < 20; i++) await db.messages.insertBounded(m(b.deviceId), 100000)
  await measure('session with the devices (every request)', () => db.sessions.activeWithDevices('sid'))
  await measure('devices by knex builder (before: listByUser)', () => db.devices.listByUser(a.userId))
  await measure('recipient by email (bundle)', () => db.devices.accountByEmail('b@example.com'))
  await measure('queue of 20 messages (fetch)', () => db.messages.listFor(b.deviceId))
  const send = () => db.sends.toDevice('a@example.com', 7, 'x'.repeat(200), sender, 1_000_000)
  await measure('look-up and insert, one statement (send)', send)
  await measure('multi-device send to one device, one statement', () =>
    db.sends.toAccount(
      'a@example.com',
      -1,
      [{ deviceId: 1, registrationId: 7, content: 'x'.repeat(200) }],
      sender,
      1e6,
    ),
  )
  for (const group of [5, 20])
    await measure(
      `send, ${group} in one transaction (group commit)`,
      () =>
        db.transaction(async (tx) => {
          for (let j = 0; j < group; j++) await tx.sends.toDevice('a@example.com', 7, 'x'.repeat(200), sender, 1e6)
        }),
      Math.ceil(N / group),
      group,
    )
  // Last: the experiments change the throwaway database's queue counter.
  if (engine === 'postgres') {
    // Migration 0004's counter is a statement-level trigger with a transition table; a row-level
    // one does the same for a single-row insert without the table and its GROUP BY.
    await knex.raw('DROP TRIGGER messages_queued_insert ON messages')
    await knex.raw(`CREATE FUNCTION queued_insert_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE devices SET queued_messages = queued_messages + 1 WHERE id = NEW.recipient_device_id;
      RETURN NULL; END $$`)
    await knex.raw(
      'CREATE TRIGGER queued_insert_row AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION queued_insert_row()',
    )
    await measure('send, the counter a row-level trigger', send)
    await knex.raw('DROP TRIGGER queued_insert_row ON messages')
  } else await knex.raw('DROP TRIGGER messages_queued_insert')
  await measure('send without the queue-counter trigger', send)
}

await onFreshDatabases(engines, postgresUrl, async (knex, engine) => {
  console.log(`${engine}: ${N} calls each, one at a time`)
  await probe(knex, engine)
})
