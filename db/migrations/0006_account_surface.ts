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

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropIndex(['is_active', 'created_at'])
    t.dropColumn('pending_email')
    t.dropColumn('is_active')
  })
}
