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
      app.config.databaseTimeout * 1000,
    )
    app.addHook('onClose', () => knex.destroy())
    await migrateLatest(knex)
    // 2FA secrets are stored encrypted under a key derived from SECRET_KEY.
    const db = createRepositories(knex, secretBox(app.config.secretKey, 'mfa-secrets'))
    app.health.addCheck('database', db.ping)
    app.decorate('db', db)
  },
  { name: 'db', dependencies: ['config', 'health'] },
)
