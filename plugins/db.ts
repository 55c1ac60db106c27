import fp from 'fastify-plugin'
import { createKnex, migrateLatest } from '../db/connection.js'
import { createRepositories, type Repositories } from '../db/index.js'
import { secretBox } from '../lib/secret-box.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Repositories
  }
}

export default fp(
  async (app) => {
    const knex = createKnex(
      app.config.databaseUrl,
      { warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) },
      app.config.databasePoolMax,
    )
    app.addHook('onClose', () => knex.destroy())
    app.health.addCheck('database', () => knex.raw('select 1'))
    await migrateLatest(knex)
    // 2FA secrets are stored encrypted under a key derived from SECRET_KEY.
    app.decorate('db', createRepositories(knex, secretBox(app.config.secretKey, 'mfa-secrets')))
  },
  { name: 'db', dependencies: ['config', 'health'] },
)
