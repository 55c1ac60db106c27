import type { Knex } from 'knex'

// Several devices per account. Each device gets its number within the account (`device_id`: 1 for
// the first, then one more than the highest the account ever had, counted in users.last_device_id
// so that an id is never reused), a registration ID unique within the account, an optional name and
// the day it was last seen. A session may be bound to one device and ends with it (the cascade).
// Messages say who sent them (email and device number at the time) and the sender's own clock.
// Provisioning sockets are registered here so that a linking message finds its socket's instance.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.integer('last_device_id').notNullable().defaultTo(0)
  })
  await knex.raw('UPDATE users SET last_device_id = 1 WHERE id IN (SELECT user_id FROM devices)')
  await knex.schema.alterTable('devices', (t) => {
    t.integer('device_id').notNullable().defaultTo(1)
    t.string('name', 100).nullable()
    t.bigInteger('last_seen_at').notNullable().defaultTo(0) // ms, UTC midnight of the day
  })
  await knex.raw('UPDATE devices SET last_seen_at = created_at - (created_at % 86400000)')
  await knex.schema.alterTable('devices', (t) => {
    t.dropUnique(['user_id'])
    t.unique(['user_id', 'device_id'])
    t.unique(['user_id', 'registration_id'])
  })
  await knex.schema.alterTable('sessions', (t) => {
    t.integer('device_id').nullable().references('devices.id').onDelete('CASCADE')
    t.index(['device_id'])
  })
  await knex.schema.alterTable('messages', (t) => {
    t.string('sender_email', 254).nullable()
    t.integer('sender_device_id').nullable()
    t.bigInteger('sender_timestamp').nullable()
  })
  // Messages already queued: their sender, when a device still has that address and registration ID.
  await knex.raw(`UPDATE messages SET sender_device_id = 1, sender_email = (
      SELECT users.email FROM devices JOIN users ON users.id = devices.user_id
      WHERE devices.address = messages.sender_address
        AND devices.registration_id = messages.sender_registration_id LIMIT 1)`)
  await knex.raw('UPDATE messages SET sender_device_id = NULL WHERE sender_email IS NULL')
  await knex.schema.createTable('provisioning_sockets', (t) => {
    t.string('address', 64).primary()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('body').nullable() // the sealed linking message, on its way to the socket's instance
    t.bigInteger('expires_at').notNullable() // ms
  })
}

// Columns are dropped with ALTER TABLE ... DROP COLUMN, not knex's SQLite table rebuild: a rebuild
// drops the old table, and on SQLite that deletes its rows first, cascading to every table that
// refers to it (users to devices, devices to keys and messages).
export async function down(knex: Knex): Promise<void> {
  const dropColumns = async (table: string, columns: string[]) => {
    for (const column of columns) await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column])
  }
  await knex.schema.dropTableIfExists('provisioning_sockets')
  await dropColumns('messages', ['sender_timestamp', 'sender_device_id', 'sender_email'])
  if (knex.client.config.client === 'pg') await dropColumns('sessions', ['device_id'])
  // SQLite cannot drop a foreign-key column in place; nothing refers to sessions, so a rebuild is safe.
  else
    await knex.schema.alterTable('sessions', (t) => {
      t.dropIndex(['device_id'])
      t.dropForeign(['device_id'])
      t.dropColumn('device_id')
    })
  // Only an account with one device fits the old schema: the others lose all but their first.
  await knex.raw(`DELETE FROM devices WHERE id NOT IN (SELECT min(id) FROM devices GROUP BY user_id)`)
  await knex.schema.alterTable('devices', (t) => {
    t.dropUnique(['user_id', 'registration_id'])
    t.dropUnique(['user_id', 'device_id'])
    t.unique(['user_id'])
  })
  await dropColumns('devices', ['last_seen_at', 'name', 'device_id'])
  await dropColumns('users', ['last_device_id'])
}
