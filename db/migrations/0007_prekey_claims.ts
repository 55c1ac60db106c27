import type { Knex } from 'knex'

// One-time prekeys handed out per device per window (PREKEY_CLAIM_LIMIT), counted whoever asks, so
// that no crowd of accounts can drain a device's one-time keys ("Prekey Pogo"). No foreign key:
// claims count before their transaction, and a device's removal must not wait on its counter (the
// row of a removed device is never read again: device keys are not reused).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('prekey_claims', (t) => {
    t.integer('device_id').primary()
    t.integer('claims').notNullable()
    t.bigInteger('window_started_at').notNullable() // ms
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('prekey_claims')
}
