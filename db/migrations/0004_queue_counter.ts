import type { Knex } from 'knex'

// Each device's queue length, kept by triggers on every insert and delete (sends, acks, purges,
// cascades alike), so that the MAX_QUEUED_MESSAGES check costs one row read instead of a count
// over the queue, and sends stay as fast with a long queue as with an empty one.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('devices', (t) => {
    t.integer('queued_messages').notNullable().defaultTo(0)
  })
  await knex.raw(
    'UPDATE devices SET queued_messages = ' +
      '(SELECT count(*) FROM messages WHERE messages.recipient_device_id = devices.id)',
  )
  if (knex.client.config.client === 'pg') {
    // Once per statement, from its transition table: a purge of thousands of rows is one update per device.
    for (const [event, rows, sign] of [
      ['INSERT', 'NEW', '+'],
      ['DELETE', 'OLD', '-'],
    ] as const) {
      const fn = `messages_queued_${event.toLowerCase()}`
      await knex.raw(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE devices SET queued_messages = queued_messages ${sign} changed.n
          FROM (SELECT recipient_device_id, count(*) AS n FROM changed_rows GROUP BY recipient_device_id) AS changed
          WHERE devices.id = changed.recipient_device_id;
          RETURN NULL;
        END $$`)
      await knex.raw(
        `CREATE TRIGGER ${fn} AFTER ${event} ON messages REFERENCING ${rows} TABLE AS changed_rows ` +
          `FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
      )
    }
  } else {
    await knex.raw(`CREATE TRIGGER messages_queued_insert AFTER INSERT ON messages BEGIN
      UPDATE devices SET queued_messages = queued_messages + 1 WHERE id = NEW.recipient_device_id; END`)
    await knex.raw(`CREATE TRIGGER messages_queued_delete AFTER DELETE ON messages BEGIN
      UPDATE devices SET queued_messages = queued_messages - 1 WHERE id = OLD.recipient_device_id; END`)
  }
}

export async function down(knex: Knex): Promise<void> {
  const pg = knex.client.config.client === 'pg'
  for (const fn of ['messages_queued_insert', 'messages_queued_delete']) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${fn}${pg ? ' ON messages' : ''}`)
    if (pg) await knex.raw(`DROP FUNCTION IF EXISTS ${fn}()`)
  }
  await knex.schema.alterTable('devices', (t) => {
    t.dropColumn('queued_messages')
  })
}
