import type { FastifyRequest } from 'fastify'

/**
 * A bounded name for what a request addressed, for logs and metric labels: the spec's operationId;
 * for a route outside the spec (/metrics, /docs), its template; for anything no route matched,
 * `unknown`. Never the raw URL, which would carry IDs and tokens and grow without bound.
 */
export function operationLabel(request: FastifyRequest): string {
  const operationId = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId
  return operationId ?? request.routeOptions.url ?? 'unknown'
}
