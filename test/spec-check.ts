import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { ValidateFunction } from 'ajv'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spec } from '../lib/spec.js'

// Checks a response against openapi.yaml: the status must be documented for the operation and
// the body must match its schema. Anything else is a failure, not a warning.

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
  let v = cache.get(ref)
  if (!v) cache.set(ref, (v = ajv.compile({ $ref: ref })))
  return v
}

const errorShape = validatorFor('openapi#/components/schemas/Error')

function resolveResponse(response: Record<string, unknown>): { ref: string; obj: Record<string, any> } | undefined {
  const $ref = response.$ref as string | undefined
  if (!$ref) return undefined
  const name = $ref.split('/').pop()!
  return { ref: `openapi#/components/responses/${name}`, obj: spec.components.responses[name] }
}

// Which operation answered with which status, across this test process. scripts/run-tests.ts sets
// OPERATION_COVERAGE_DIR and fails the run when an operation was never exercised.
const seen = new Set<string>()
const coverageDir = process.env.OPERATION_COVERAGE_DIR
if (coverageDir) {
  process.on('exit', () => {
    mkdirSync(coverageDir, { recursive: true })
    writeFileSync(join(coverageDir, `${process.pid}.json`), JSON.stringify([...seen]))
  })
}

export type CheckedResponse = { status: number; contentType: string; body: unknown }

/** Returns a list of problems; empty means the response is what the contract promises. */
/** decodeURI, but a broken escape (which the server must answer too) leaves the path as it is. */
function safeDecode(path: string): string {
  try {
    return decodeURI(path)
  } catch {
    return path
  }
}

export function checkAgainstSpec(method: string, url: string, res: CheckedResponse): string[] {
  const path = url.split('?')[0]
  const template = templates.find((t) => t.re.test(safeDecode(path)) || t.re.test(path))
  const op = template && spec.paths[template.path][method.toLowerCase()]
  if (!op) {
    // No operation: only the server's generic answers are allowed, in the error shape.
    if (![400, 404, 405, 413, 415, 429, 431].includes(res.status))
      return [`${method} ${path}: no operation, and status ${res.status}`]
    return errorShape(res.body)
      ? []
      : [`${method} ${path}: ${res.status} body is not the error shape: ${ajv.errorsText(errorShape.errors)}`]
  }
  seen.add(`${op.operationId} ${res.status}`)
  const declared = op.responses[String(res.status)]
  if (!declared) return [`${op.operationId}: status ${res.status} is not documented (body ${JSON.stringify(res.body)})`]
  const resolved = resolveResponse(declared)
  const responseObj = resolved?.obj ?? declared
  const base =
    resolved?.ref ??
    `openapi#/${pointer('paths', template.path, method.toLowerCase(), 'responses', String(res.status))}`
  const content = responseObj.content as Record<string, { schema: unknown }> | undefined
  if (!content)
    return res.body === undefined || res.body === '' ? [] : [`${op.operationId}: ${res.status} should have no body`]
  const type = Object.keys(content).find((t) => res.contentType.startsWith(t))
  if (!type) return [`${op.operationId}: ${res.status} content-type ${res.contentType} is not documented`]
  const validate = validatorFor(`${base}/content/${pointer(type)}/schema`)
  return validate(res.body)
    ? []
    : [
        `${op.operationId}: ${res.status} body does not match: ${ajv.errorsText(validate.errors)} (${JSON.stringify(res.body)})`,
      ]
}
