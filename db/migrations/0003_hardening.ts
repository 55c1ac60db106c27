import type { Knex } from 'knex'

// Failed attempts per account (login, 2FA codes, reset links) and the lock they lead to; the
// ephemeral 2FA tokens already used, so that each logs in at most once; a device's optional
// request-signing key; and the last counter accepted for each signing key. The counter belongs to
// the key, not the device row, so that a device deleted and registered again with the same key
// cannot have its earlier requests replayed.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('auth_failures', (t) => {
    t.string('scope', 16).notNullable()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.integer('failures').notNullable()
    t.bigInteger('window_started_at').notNullable() // ms
    t.bigInteger('locked_until').nullable() // ms
    t.primary(['scope', 'user_id'])
  })
  await knex.schema.createTable('used_tokens', (t) => {
    t.string('id', 64).primary()
    t.bigInteger('expires_at').notNullable() // ms; rows past it can go
    t.index(['expires_at'])
  })
  await knex.schema.alterTable('devices', (t) => {
    t.string('signing_key', 44).nullable() // Ed25519 public key, base64
  })
  await knex.schema.createTable('signing_counters', (t) => {
    t.string('signing_key', 44).primary()
    t.bigInteger('counter').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('signing_counters')
  await knex.schema.alterTable('devices', (t) => {
    t.dropColumn('signing_key')
  })
  await knex.schema.dropTableIfExists('used_tokens')
  await knex.schema.dropTableIfExists('auth_failures')
}
