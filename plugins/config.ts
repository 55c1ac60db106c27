import fp from 'fastify-plugin'
import type { Config } from '../lib/config.js'

// The validated config (lib/config.ts loads and checks it once, at start-up) for every plugin and handler.
declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    app.decorate('config', config)
  },
  { name: 'config' },
)
