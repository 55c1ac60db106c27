import fp from 'fastify-plugin'
import pino from 'pino'
import type { FastifyServerOptions } from 'fastify'
import type { Config } from '../lib/config.js'
import { operationLabel } from '../lib/operation-label.js'
import { operations } from '../lib/spec.js'

/**
 * The reset and activation pages' paths carry a token, and a careless client may put secrets in the
 * query: all are masked.
 */
export function maskUrl(url: string): string {
  return (
    url
      .replace(/(\/auth\/(?:password\/reset\/confirm|activate)\/[^/]+\/)[^/?]+/, '$1[redacted]')
      // A reset token anywhere else in the path (a client that mangled the link, `..` resolved): masked too.
      .replace(/(\/)[0-9a-z]+-[0-9a-f]{40}(?=[/?]|$)/g, '$1[redacted]')
      // The API never takes credentials in the query, but a client may still put them there.
      .replace(/([?&][^=&#]*(?:token|key|code|secret|password|signature)[^=&#]*=)[^&#]*/gi, '$1[redacted]')
  )
}

// Whatever logs a request object gets method, masked path and address only: never headers (tokens)
// or bodies (keys, ciphertext).
const serializers = {
  req: (req: { method: string; url: string; ip?: string }) => ({
    method: req.method,
    url: maskUrl(req.url),
    remoteAddress: req.ip,
  }),
}

export type LogTarget = { stream?: { write(line: string): void }; isTTY?: boolean }

/**
 * The app's pino options: JSON lines (one object per line, for log shippers), except on an
 * interactive terminal, where pino-pretty renders them for a person. A given stream (tests) is
 * always written JSON.
 */
export function loggerOptions(
  config: Pick<Config, 'logLevel'>,
  { stream, isTTY = process.stdout.isTTY === true }: LogTarget = {},
): FastifyServerOptions['logger'] {
  if (stream) return { level: config.logLevel, serializers, stream }
  // Asynchronous writes: under load, lines queue in memory and go out together instead of one
  // blocking write per request; pino flushes what is left when the process exits.
  if (!isTTY) return { level: config.logLevel, serializers, stream: pino.destination({ dest: 1, sync: false }) }
  return {
    level: config.logLevel,
    serializers,
    transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
  }
}

/**
 * One line per answered request (Fastify's own two lines are off: app.ts sets
 * disableRequestLogging): request id, operation, method, masked path, status and duration in ms.
 */
export default fp(
  async (app) => {
    app.addHook('onResponse', (request, reply, done) => {
      const operationId = operationLabel(request)
      // Orchestrators probe every few seconds: a healthy probe would drown the log at info.
      const level = reply.statusCode < 400 && operations.get(operationId)?.probe ? 'debug' : 'info'
      request.log[level](
        {
          operationId,
          method: request.method,
          url: maskUrl(request.url),
          statusCode: reply.statusCode,
          responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
          remoteAddress: request.ip,
        },
        'request completed',
      )
      done()
    })
  },
  { name: 'request-log' },
)
