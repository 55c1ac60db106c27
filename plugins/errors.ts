import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, type ErrorCode, type FieldError } from '../lib/api-error.js'
import { errors } from '../lib/errors.js'
import { isDatabaseUnavailable } from '../db/dialect.js'
import { allowedMethods, operationAt, operations, type OperationInfo } from '../lib/spec.js'
import { accountLinkInvalidPage } from '../lib/account-pages.js'
import { refusedPage, resetFormPage, resetInvalidPage, throttledPage } from '../lib/reset-page.js'

type ValidationIssue = { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }

function fieldOf(context: string, issue: ValidationIssue): string {
  const path = issue.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty
  return `${context}${path}${extra !== undefined ? `.${extra}` : ''}`
}

/** What the security handler threw that is no refusal (fastify-openapi-glue wraps it), if anything. */
const faultIn = (err: { errors?: unknown[] }) => err.errors?.find((e): e is Error => !(e instanceof ApiError))

/** Maps anything thrown while handling a request to the API's one error shape. */
export function toApiError(err: FastifyError & { errors?: unknown[] }): ApiError {
  if (err instanceof ApiError) return err
  if (isDatabaseUnavailable(err)) return errors.serviceUnavailable()
  if (err.validation) {
    const context = err.validationContext ?? 'body'
    // A path segment outside its enum names a resource that does not exist (e.g. /auth/sms/activate/).
    if (context === 'params' && err.validation.some((v) => v.keyword === 'enum')) return errors.notFound()
    const seen = new Set<string>()
    const fields: FieldError[] = []
    for (const issue of err.validation as ValidationIssue[]) {
      const field = fieldOf(context, issue)
      const key = `${field}\u0000${issue.message}`
      if (!seen.has(key)) {
        fields.push({ field, message: issue.message ?? 'is invalid' })
        seen.add(key)
      }
    }
    return errors.invalidData(fields)
  }
  // fastify-openapi-glue wraps what the security handler threw. A check that could not run (the
  // session could not be read) is not a failed authentication: that is the server's fault, never a 401.
  if (err.name === 'Unauthorized' && err.statusCode === 401) {
    const fault = faultIn(err)
    if (fault) return toApiError(fault as FastifyError)
    const inner = err.errors?.find((e): e is ApiError => e instanceof ApiError)
    return inner ?? errors.notAuthenticated()
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType()
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.requestTooLarge()
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.parseError('The body is empty but its Content-Type is application/json.')
  }
  if (err.statusCode === 400 && (err instanceof SyntaxError || /JSON/i.test(err.message))) {
    return errors.parseError()
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return errors.badRequest(err.statusCode)
  }
  return errors.serverError()
}

/**
 * What a server fault may put in the log. knex appends the failed SQL with its bound values to the
 * message, and those are keys, ciphertext or hashes: only the part before the SQL is kept.
 */
function loggable(err: Error & { code?: string }) {
  const message = String(err.message ?? '')
  const sqlAt = message.search(/\b(insert|select|update|delete|with)\b[\s\S]* - /i)
  return {
    type: err.name,
    code: err.code,
    message: sqlAt >= 0 ? message.slice(message.lastIndexOf(' - ') + 3) : message,
    stack: err.stack?.split('\n').slice(1, 6).join('\n'),
  }
}

/** The page an operation that answers `status` as text/html shows for this refusal. */
function errorPage(name: string, op: OperationInfo, apiError: ApiError): string {
  if (apiError.statusCode === 429) return throttledPage(name, Number(apiError.headers?.['retry-after'] ?? 1))
  const brokenLink = apiError.errors?.some((e) => e.field.startsWith('params'))
  if (op.operationId === 'activationPageSubmit')
    return accountLinkInvalidPage(name, ...(brokenLink ? [] : [apiError.message]))
  if (brokenLink) return resetInvalidPage(name)
  return op.operationId === 'resetPasswordPage'
    ? refusedPage(name, apiError.message)
    : resetFormPage(name, [apiError.message])
}

/**
 * Sends an error. The operations whose answer for that status is a page (openapi.yaml says text/html)
 * get the page, since a person reads it in a browser: a 429 says when to come back (Retry-After
 * still set); a 400 of the reset pages is the invalid-link page for a broken link and the form with
 * the problem for a broken body; the activation page's submit its invalid-link page, saying what is
 * wrong unless it is the link.
 */
function sendError(request: FastifyRequest, reply: FastifyReply, apiError: ApiError, op: OperationInfo | undefined) {
  if (apiError.headers) reply.headers(apiError.headers)
  if (op?.responseTypes[String(apiError.statusCode)] === 'text/html') {
    const html = errorPage(request.server.config.applicationName, op, apiError)
    return reply.code(apiError.statusCode).type('text/html; charset=utf-8').send(html)
  }
  const body = {
    code: apiError.code,
    message: apiError.message,
    ...(apiError.errors && { errors: apiError.errors }),
    ...apiError.details,
  }
  return reply.code(apiError.statusCode).type('application/json; charset=utf-8').send(body)
}

/**
 * Errors the router raises before any route runs: a path parameter with a broken percent-escape
 * (FST_ERR_BAD_URL) or longer than maxParamLength. Both are a bad path parameter: 400.
 */
export function frameworkErrors(_err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const op = operationAt(request.method, request.url.split('?')[0])
  return sendError(request, reply, errors.invalidField('params', 'is not a valid path parameter'), op)
}

/** Answers requests Node's HTTP parser rejects (e.g. 431) in the API's error shape. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const [status, reason, code, message]: [number, string, ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive.']
        : [400, 'Bad Request', 'bad_request', 'The request is not valid HTTP.']
  const body = JSON.stringify({ code, message })
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const apiError = toApiError(err)
      // The original fault, unwrapped from the security handler's wrapper.
      const fault = faultIn(err as { errors?: unknown[] }) ?? err
      if (apiError.statusCode === 503) request.log.warn({ err: loggable(fault) }, 'database unavailable')
      else if (apiError.statusCode >= 500) request.log.error({ err: loggable(fault) }, 'request failed')
      const operationId = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId
      return sendError(request, reply, apiError, operations.get(operationId ?? ''))
    })

    app.setNotFoundHandler((request, reply) => {
      const allow = allowedMethods(request.url.split('?')[0])
      if (allow.length) {
        return sendError(request, reply, errors.methodNotAllowed(request.method, allow.join(', ')), undefined)
      }
      return sendError(request, reply, errors.notFound(), undefined)
    })
  },
  { name: 'errors' },
)
