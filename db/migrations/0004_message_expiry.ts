import type { Knex } from 'knex'

// Messages expire (MESSAGE_TTL): the purge finds them by age without scanning every queue.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.index(['created_at'], 'messages_created_at_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.dropIndex(['created_at'], 'messages_created_at_index')
  })
}
