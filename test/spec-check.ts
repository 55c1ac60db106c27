import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { ValidateFunction } from 'ajv'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { allowedMethods, spec } from '../lib/spec.js'

// Checks a response against openapi.yaml: the status must be documented for the operation, the
// headers it declares must be there with values of their schema, and the body must match its
// schema. Anything else is a failure, not a warning.

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default
const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats(ajv)
ajv.addSchema(spec, 'openapi')

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

const templates = Object.keys(spec.paths).map((path) => ({
  path,
  re: new RegExp(`^${path.replace(/\/+$/, '').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
}))

const cache = new Map<string, ValidateFunction>()
function validatorFor(ref: string): ValidateFunction {
  const known = cache.get(ref)
  if (known) return known
  const v = ajv.compile({ $ref: ref })
  cache.set(ref, v)
  return v
}

const errorShape = validatorFor('openapi#/components/schemas/Error')

/** An object of the spec, followed through a `$ref`, with the ajv reference of where it sits. */
type Located = { ref: string; obj: Record<string, any> }
function locate(obj: Record<string, any>, ref: string): Located {
  const $ref = obj.$ref as string | undefined
  if (!$ref?.startsWith('#/')) return { ref, obj }
  const parts = $ref.slice(2).split('/')
  const target = parts.reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec as Record<string, any>)
  return locate(target, `openapi#/${parts.join('/')}`)
}

// Which operation answered with which status, across this test process. scripts/run-tests.ts sets
// OPERATION_COVERAGE_DIR and hands the pairs to scripts/coverage-gate.ts.
const seen = new Set<string>()
const coverageDir = process.env.OPERATION_COVERAGE_DIR
if (coverageDir) {
  process.on('exit', () => {
    mkdirSync(coverageDir, { recursive: true })
    writeFileSync(join(coverageDir, `${process.pid}.json`), JSON.stringify([...seen]))
  })
}

/** Response headers as a client got them: a plain object (inject, node:http, ws) or fetch's `Headers`. */
type ResponseHeaders = Record<string, string | string[] | number | undefined> | { get(name: string): string | null }

export type CheckedResponse = {
  status: number
  contentType: string
  body: unknown
  /** Required, so that no caller can leave the declared headers unchecked. */
  headers: ResponseHeaders
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined
  const record = headers as Record<string, string | string[] | number | undefined>
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase())
  const value = key === undefined ? undefined : record[key]
  return value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value)
}

/**
 * The headers a response object declares, each present with a value of its schema. OpenAPI makes a
 * response header optional by default; this contract declares only headers the server always sends,
 * so a declared header is required unless it says `required: false`.
 */
function headerProblems(what: string, response: Located, headers: ResponseHeaders): string[] {
  const problems: string[] = []
  for (const [name, declared] of Object.entries<Record<string, any>>(response.obj.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') continue // OpenAPI ignores it here; contentType is checked below
    const header = locate(declared, `${response.ref}/headers/${pointer(name)}`)
    const raw = headerValue(headers, name)
    if (raw === undefined) {
      if (header.obj.required !== false) problems.push(`${what}: the ${name} header is missing`)
      continue
    }
    const schema = locate(header.obj.schema ?? {}, `${header.ref}/schema`)
    // A header is text: a number is valid when the whole text is one.
    const numeric = ['integer', 'number'].includes(schema.obj.type) && /^-?\d+(\.\d+)?$/.test(raw.trim())
    const validate = validatorFor(schema.ref)
    if (!validate(numeric ? Number(raw) : raw))
      problems.push(
        `${what}: the ${name} header ${JSON.stringify(raw)} does not match: ${ajv.errorsText(validate.errors)}`,
      )
  }
  return problems
}

/** decodeURI, but a broken escape (which the server must answer too) leaves the path as it is. */
function safeDecode(path: string): string {
  try {
    return decodeURI(path)
  } catch {
    return path
  }
}

// The server's generic answers outside any operation, and the response object whose headers they owe.
const generic: Record<number, string | undefined> = {
  400: undefined,
  404: undefined,
  405: undefined,
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  431: undefined,
}

function noOperation(method: string, path: string, res: CheckedResponse): string[] {
  const what = `${method} ${path}`
  if (!(res.status in generic)) return [`${what}: no operation, and status ${res.status}`]
  const problems = errorShape(res.body)
    ? []
    : [`${what}: ${res.status} body is not the error shape: ${ajv.errorsText(errorShape.errors)}`]
  if (!res.headers) return problems
  const component = generic[res.status]
  if (component)
    problems.push(
      ...headerProblems(
        `${what}: ${res.status}`,
        locate({ $ref: `#/components/responses/${component}` }, ''),
        res.headers,
      ),
    )
  if (res.status === 405) {
    // A path of the spec asked with a method it does not define: Allow names the ones it does.
    const allow = headerValue(res.headers, 'allow')
    const expected = allowedMethods(path)
    if (allow === undefined) problems.push(`${what}: 405 without an Allow header`)
    else if (
      expected.length &&
      allow
        .split(',')
        .map((m) => m.trim().toUpperCase())
        .sort()
        .join(', ') !== [...expected].sort().join(', ')
    )
      problems.push(`${what}: 405 Allow ${JSON.stringify(allow)}, but the spec defines ${expected.join(', ')} here`)
  }
  return problems
}

/** Returns a list of problems; empty means the response is what the contract promises. */
export function checkAgainstSpec(method: string, url: string, res: CheckedResponse): string[] {
  const path = url.split('?')[0]
  const template = templates.find((t) => t.re.test(safeDecode(path)) || t.re.test(path))
  const op = template && spec.paths[template.path][method.toLowerCase()]
  if (!op) return noOperation(method, path, res)
  seen.add(`${op.operationId} ${res.status}`)
  const declared = op.responses[String(res.status)]
  if (!declared) return [`${op.operationId}: status ${res.status} is not documented (body ${JSON.stringify(res.body)})`]
  const response = locate(
    declared,
    `openapi#/${pointer('paths', template.path, method.toLowerCase(), 'responses', String(res.status))}`,
  )
  const problems = res.headers ? headerProblems(`${op.operationId}: ${res.status}`, response, res.headers) : []
  const content = response.obj.content as Record<string, { schema: unknown }> | undefined
  if (!content) {
    if (!(res.body === undefined || res.body === ''))
      problems.push(`${op.operationId}: ${res.status} should have no body`)
    return problems
  }
  const type = Object.keys(content).find((t) => res.contentType.startsWith(t))
  if (!type) return [...problems, `${op.operationId}: ${res.status} content-type ${res.contentType} is not documented`]
  const validate = validatorFor(`${response.ref}/content/${pointer(type)}/schema`)
  if (!validate(res.body))
    problems.push(
      `${op.operationId}: ${res.status} body does not match: ${ajv.errorsText(validate.errors)} ` +
        `(${JSON.stringify(res.body)})`,
    )
  return problems
}

/** fetch, its answer checked like the inject client's: for tests of a real listening server. */
export async function fetchChecked(t: { fail(msg: string): void }, url: string, init: RequestInit = {}) {
  const res = await fetch(url, init)
  const text = await res.text()
  const contentType = res.headers.get('content-type') ?? ''
  const body: any = contentType.startsWith('application/json') ? JSON.parse(text) : text || undefined
  const answer = { status: res.status, contentType, body, headers: res.headers }
  for (const p of checkAgainstSpec(init.method ?? 'GET', new URL(url).pathname, answer)) t.fail(`contract: ${p}`)
  return { status: res.status, headers: res.headers, text, body }
}
