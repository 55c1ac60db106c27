import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id')
    t.string('email', 254).notNullable().unique() // stored lower-cased: emails are case-insensitive
    t.string('password_hash', 100).notNullable()
    t.bigInteger('password_changed_at').notNullable() // ms; part of reset tokens, so a change kills them
    t.bigInteger('created_at').notNullable()
  })
  await knex.schema.createTable('sessions', (t) => {
    t.string('id', 64).primary()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.bigInteger('created_at').notNullable()
    t.bigInteger('expires_at').notNullable()
    t.index(['user_id'])
  })
  await knex.schema.createTable('mfa_methods', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.string('name', 16).notNullable()
    t.string('secret', 128).notNullable() // TOTP secret (base32) for `app`
    t.boolean('is_active').notNullable().defaultTo(false)
    t.boolean('is_primary').notNullable().defaultTo(false)
    t.bigInteger('last_totp_step').notNullable().defaultTo(-1) // refuses a replayed TOTP code
    t.string('email_code_hash', 128).nullable() // the one outstanding emailed code, hashed
    t.bigInteger('email_code_expires_at').nullable()
    t.unique(['user_id', 'name'])
  })
  await knex.schema.createTable('mfa_backup_codes', (t) => {
    t.increments('id')
    t.integer('method_id').notNullable().references('mfa_methods.id').onDelete('CASCADE')
    t.string('code_hash', 128).notNullable()
    t.index(['method_id'])
  })
  await knex.schema.createTable('devices', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().unique().references('users.id').onDelete('CASCADE')
    t.string('address', 128).notNullable()
    t.string('identity_key', 64).notNullable()
    t.integer('registration_id').notNullable()
    t.bigInteger('created_at').notNullable()
  })
  await knex.schema.createTable('signed_prekeys', (t) => {
    t.integer('device_id').primary().references('devices.id').onDelete('CASCADE')
    t.integer('key_id').notNullable()
    t.string('public_key', 64).notNullable()
    t.string('signature', 128).notNullable()
  })
  await knex.schema.createTable('prekeys', (t) => {
    t.increments('id')
    t.integer('device_id').notNullable().references('devices.id').onDelete('CASCADE')
    t.integer('key_id').notNullable()
    t.string('public_key', 64).notNullable()
    t.unique(['device_id', 'key_id'])
  })
  await knex.schema.createTable('messages', (t) => {
    t.bigIncrements('id')
    t.integer('recipient_device_id').notNullable().references('devices.id').onDelete('CASCADE')
    t.string('sender_address', 128).notNullable()
    t.integer('sender_registration_id').notNullable()
    t.string('recipient_address', 128).notNullable()
    t.text('content').notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['recipient_device_id', 'id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'messages',
    'prekeys',
    'signed_prekeys',
    'devices',
    'mfa_backup_codes',
    'mfa_methods',
    'sessions',
    'users',
  ]) {
    await knex.schema.dropTableIfExists(table)
  }
}
