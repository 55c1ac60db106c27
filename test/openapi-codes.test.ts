import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { spec } from '../lib/spec.js'
import { checkAgainstSpec } from './spec-check.js'

// Error codes are part of the contract: ErrorCode lists them all, each error answer lists its own
// as an enum, and the code raises no other. These tests keep the three in step.

const allCodes: string[] = spec.components.schemas.ErrorCode.enum
type Json = Record<string, any>

/** The `code` enum of an error response object (component or inline), if it declares one. */
function codesOf(response: Json): string[] | undefined {
  const resolved = response.$ref ? spec.components.responses[String(response.$ref).split('/').pop()!] : response
  const schema = resolved?.content?.['application/json']?.schema
  return schema?.properties?.code?.enum
}

const errorAnswers: { where: string; codes: string[] | undefined }[] = []
for (const [path, item] of Object.entries<Json>(spec.paths)) {
  for (const [method, op] of Object.entries<Json>(item)) {
    if (!op?.responses) continue
    for (const [status, response] of Object.entries<Json>(op.responses)) {
      const schema = (response.$ref ? spec.components.responses[response.$ref.split('/').pop()] : response)?.content?.[
        'application/json'
      ]?.schema
      const isError = Number(status) >= 400 && JSON.stringify(schema ?? {}).includes('#/components/schemas/Error')
      if (isError) errorAnswers.push({ where: `${method.toUpperCase()} ${path} ${status}`, codes: codesOf(response) })
    }
  }
}

t.test('every error answer of every operation lists its codes, all of them in ErrorCode', async (tt) => {
  tt.ok(errorAnswers.length > 100, `${errorAnswers.length} error answers found`)
  for (const { where, codes } of errorAnswers) {
    tt.ok(codes?.length, `${where} lists its codes`)
    for (const code of codes ?? []) tt.ok(allCodes.includes(code), `${where}: ${code} is an ErrorCode`)
  }
})

t.test('every code the server code raises is in ErrorCode, and every ErrorCode is raised somewhere', async (tt) => {
  // The compiler already refuses an ApiError with a code outside ErrorCode; this also catches codes
  // written as plain strings (raw socket answers) and ErrorCode entries nothing can produce.
  const sources = ['lib', 'plugins', 'routes'].flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(dir, f), 'utf8')),
  )
  const text = sources.join('\n')
  const raised = new Set([...text.matchAll(/new ApiError\(\s*[\w.]+,\s*'([a-z_-]+)'/g)].map((m) => m[1]))
  for (const m of text.matchAll(/'(headers_too_large|request_timeout|bad_request)'/g)) raised.add(m[1])
  for (const code of raised) tt.ok(allCodes.includes(code), `${code} is an ErrorCode`)
  for (const code of allCodes) tt.ok(raised.has(code), `${code} is raised somewhere`)
})

t.test('the response check refuses a code the answer does not list', async (tt) => {
  const ok = checkAgainstSpec('GET', '/auth/users/me/', {
    status: 401,
    contentType: 'application/json',
    body: { code: 'not_authenticated', message: 'x' },
    headers: {},
  })
  tt.same(ok, [], 'a listed code passes')
  const listedElsewhere = checkAgainstSpec('GET', '/auth/users/me/', {
    status: 401,
    contentType: 'application/json',
    body: { code: 'no_device', message: 'x' },
    headers: {},
  })
  tt.ok(listedElsewhere.length > 0, 'an ErrorCode this answer does not list fails')
  const unknown = checkAgainstSpec('POST', '/auth/users/', {
    status: 400,
    contentType: 'application/json',
    body: { code: 'no_such_code', message: 'x' },
    headers: {},
  })
  tt.ok(unknown.length > 0, 'a code outside ErrorCode fails')
})
