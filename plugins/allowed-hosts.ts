import fp from 'fastify-plugin'
import { errors } from '../lib/errors.js'
import { operationAt } from '../lib/spec.js'

// The seed's ALLOWED_HOSTS: refuse requests whose Host header names another site, so that links
// built from the request (and cache keys upstream) cannot be pointed elsewhere. Empty means any.
// Entries match like Django's: "example.com" exactly, ".example.com" that domain and subdomains, "*" any.
export function hostAllowed(hostHeader: string | undefined, allowed: string[]): boolean {
  if (allowed.length === 0 || allowed.includes('*')) return true
  const host = (hostHeader ?? '')
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
  return allowed.some((entry) => {
    const e = entry.toLowerCase()
    return e.startsWith('.') ? host === e.slice(1) || host.endsWith(e) : host === e
  })
}

export default fp(
  async (app) => {
    const allowed = app.config.allowedHosts
    if (allowed.length === 0) return
    app.addHook('onRequest', async (request) => {
      // Health probes address the instance by IP (Docker, Kubernetes), and no link is built from them.
      if (operationAt(request.method, request.url.split('?')[0])?.probe) return
      if (!hostAllowed(request.headers.host, allowed)) throw errors.invalidHost()
    })
  },
  { name: 'allowed-hosts', dependencies: ['config', 'errors'] },
)
