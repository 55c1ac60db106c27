import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'

export type Shutdown = {
  /**
   * Stops accepting connections, lets requests in progress finish, then closes the app (database,
   * Redis: their plugins' onClose hooks). Connections still busy after `graceMs` are cut.
   * Resolves once everything is closed; `forced` tells whether any connection had to be cut.
   */
  close(): Promise<{ forced: boolean }>
  /** Cuts every remaining connection now (a second signal, or the grace period running out). */
  force(): void
}

/** Graceful shutdown for `app`; call before it listens, so that it sees every request. */
export function gracefulShutdown(app: FastifyInstance, graceMs: number): Shutdown {
  const inFlight = new Set<ServerResponse>()
  let draining = false
  let forced = false
  let closing: Promise<{ forced: boolean }> | undefined

  app.server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
    // A kept-alive connection would otherwise stay open until its keep-alive timeout (75 s by
    // default) after its last answer; while draining it closes as soon as it is idle.
    res.once('finish', () => {
      if (draining) setImmediate(() => app.server.closeIdleConnections())
    })
  })

  const force = () => {
    if (!draining) return
    forced = true
    app.log.warn({ requests: inFlight.size }, 'shutdown: cutting the remaining connections')
    app.server.closeAllConnections()
  }

  return {
    force,
    close() {
      closing ??= (async () => {
        draining = true
        // Answers still to be sent tell their clients not to reuse the connection. Requests that
        // arrive meanwhile on open connections are served the same way (Fastify marks them).
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close')
        const timer = setTimeout(force, graceMs)
        try {
          // Stops listening (new connections are refused), closes idle connections, waits for the
          // busy ones, then runs the onClose hooks.
          await app.close()
        } finally {
          clearTimeout(timer)
        }
        return { forced }
      })()
      return closing
    },
  }
}
