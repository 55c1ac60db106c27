import type { Knex } from 'knex'

// Failed attempts per account (login, 2FA codes, reset links) and the lock they lead to; the
// ephemeral 2FA tokens already used, so that each logs in at most once; and a device's optional
// request-signing key with the last counter it signed.
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
    t.bigInteger('signing_counter').notNullable().defaultTo(0)
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('devices', (t) => {
    t.dropColumn('signing_counter')
    t.dropColumn('signing_key')
  })
  await knex.schema.dropTableIfExists('used_tokens')
  await knex.schema.dropTableIfExists('auth_failures')
}
