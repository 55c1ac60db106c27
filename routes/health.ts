import type { Handlers, Schemas } from '../lib/handlers.js'

export const health = {
  // Up means the event loop answers HTTP; dependencies are the readiness probe's business, so a
  // database outage takes instances out of rotation instead of restarting them all.
  async getLiveness() {
    return { status: 200, body: { status: 'ok' } }
  },

  async getReadiness(request) {
    const { ready, checks } = await request.server.health.readiness()
    const body: Schemas['Readiness'] = {
      status: ready ? 'ok' : 'unavailable',
      checks: checks as Schemas['Readiness']['checks'],
    }
    return ready ? { status: 200, body } : { status: 503, body }
  },
} satisfies Partial<Handlers>
