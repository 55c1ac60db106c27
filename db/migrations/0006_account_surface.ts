import type { Knex } from 'knex'

// Email verification and email changes. `is_active`: false from sign-up until the mailed link is
// opened (EMAIL_VERIFICATION=on); every account that exists already is active. `pending_email`: a
// new address waiting for its link to be opened. The index serves the purge of old inactive accounts.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.boolean('is_active').notNullable().defaultTo(true)
    t.string('pending_email', 254).nullable()
    t.index(['is_active', 'created_at'])
  })
}

// ALTER TABLE ... DROP COLUMN, not knex's SQLite rebuild of users: dropping the old users table
// would first delete its rows on SQLite, and every device, key and message with them (cascades).
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropIndex(['is_active', 'created_at'])
  })
  for (const column of ['pending_email', 'is_active']) await knex.raw('ALTER TABLE users DROP COLUMN ??', [column])
}
