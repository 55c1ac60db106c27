import fp from 'fastify-plugin'
import { createKnex, migrateLatest } from '../db/connection.js'
import { createRepositories, type Repositories } from '../db/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Repositories
  }
}

export default fp(
  async (app) => {
    const knex = createKnex(app.config.databaseUrl, { warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) })
    app.addHook('onClose', () => knex.destroy())
    await migrateLatest(knex)
    app.decorate('db', createRepositories(knex))
  },
  { name: 'db', dependencies: ['config'] },
)
