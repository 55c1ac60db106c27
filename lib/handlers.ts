import type { FastifyRequest } from 'fastify'
import type { operations } from '../sdk/schema.js'

// Types for handlers, derived from the generated `operations`: a handler gets the operation's
// typed body and path parameters and returns one of its documented statuses with the matching
// body. A missing handler for an operationId fails to compile.

type Content<R> = R extends { content: infer C } ? C[keyof C] : undefined
type Responses<Op> = Op extends { responses: infer R } ? R : never

type Body<Op> = Op extends { requestBody: { content: infer C } }
  ? C[keyof C]
  : Op extends { requestBody?: { content: infer C } }
    ? C[keyof C] | undefined
    : undefined
type Params<Op> = Op extends { parameters: { path: infer P } } ? P : Record<string, never>

type Reply<Op> = {
  [S in keyof Responses<Op>]: Content<Responses<Op>[S]> extends undefined
    ? { status: S; body?: undefined }
    : { status: S; body: Content<Responses<Op>[S]> }
}[keyof Responses<Op>]

type HandlerRequest<Op> = FastifyRequest<{ Body: Body<Op>; Params: Params<Op> }>
type Handler<Op> = (request: HandlerRequest<Op>) => Promise<Reply<Op>>
export type Handlers = { [K in keyof operations]: Handler<operations[K]> }
export type Schemas = import('../sdk/schema.js').components['schemas']
