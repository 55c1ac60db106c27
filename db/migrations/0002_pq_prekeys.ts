import type { Knex } from 'knex'

// Kyber (post-quantum) prekeys. One-time ones are consumed by bundle claims like `prekeys`; the
// last-resort one is handed out when those run out and is never consumed, so it lives apart.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('pq_prekeys', (t) => {
    t.increments('id')
    t.integer('device_id').notNullable().references('devices.id').onDelete('CASCADE')
    t.integer('key_id').notNullable()
    t.text('public_key').notNullable() // 2092 base64 characters
    t.string('signature', 88).notNullable()
    t.unique(['device_id', 'key_id'])
  })
  await knex.schema.createTable('pq_last_resort_prekeys', (t) => {
    t.integer('device_id').primary().references('devices.id').onDelete('CASCADE')
    t.integer('key_id').notNullable()
    t.text('public_key').notNullable()
    t.string('signature', 88).notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('pq_last_resort_prekeys')
  await knex.schema.dropTableIfExists('pq_prekeys')
}
