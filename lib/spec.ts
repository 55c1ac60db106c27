import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

// The contract sits at the package root: one level up from lib/, two from dist/lib/.
const candidates = ['../openapi.yaml', '../../openapi.yaml'].map((p) => fileURLToPath(new URL(p, import.meta.url)))
const specPath = candidates.find((p) => existsSync(p)) ?? candidates[0]

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
export const spec: Json = parse(readFileSync(specPath, 'utf8'))

export type OperationInfo = {
  operationId: string
  method: string
  path: string
  authenticated: boolean
  bodyRequired: boolean
  bodyTypes: string[]
  throttles: string[]
  /** `x-device-signed`: a device with a signing key must sign the request (plugins/device-signature.ts). */
  deviceSigned: boolean
  /** `x-websocket`: the operation upgrades to a WebSocket (plugins/delivery.ts); a plain request answers 426. */
  websocket: boolean
  /** `x-probe`: for orchestrators and monitors (health checks): never throttled, answered whatever the Host header. */
  probe: boolean
  /** The media type each status answers with, e.g. text/html for the reset page. */
  responseTypes: Record<string, string | undefined>
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']

function resolve(obj: Json | undefined): Json | undefined {
  if (!obj?.$ref) return obj
  const target = (obj.$ref as string)
    .slice(2)
    .split('/')
    .reduce((o: Json, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec)
  return resolve(target)
}

export const operations = new Map<string, OperationInfo>()
const pathMatchers: { re: RegExp; methods: string[]; operationIds: Record<string, string> }[] = []

for (const [path, item] of Object.entries<Json>(spec.paths)) {
  const methods: string[] = []
  const operationIds: Record<string, string> = {}
  for (const method of METHODS) {
    const op = item[method]
    if (!op) continue
    methods.push(method.toUpperCase())
    operationIds[method.toUpperCase()] = op.operationId
    const body = resolve(op.requestBody)
    const responseTypes: Record<string, string | undefined> = {}
    for (const [status, response] of Object.entries<Json>(op.responses)) {
      responseTypes[status] = Object.keys(resolve(response)?.content ?? {})[0]
    }
    operations.set(op.operationId, {
      operationId: op.operationId,
      method: method.toUpperCase(),
      path,
      authenticated: (op.security ?? spec.security ?? []).length > 0,
      bodyRequired: Boolean(body?.required),
      bodyTypes: Object.keys(body?.content ?? {}),
      throttles: op['x-throttle'] ?? [],
      deviceSigned: op['x-device-signed'] === true,
      websocket: op['x-websocket'] === true,
      probe: op['x-probe'] === true,
      responseTypes,
    })
  }
  const pattern = path
    .replace(/\/+$/, '')
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{[^}]+\}/g, '[^/]+')
  pathMatchers.push({ re: new RegExp(`^${pattern}/?$`), methods, operationIds })
}

/** The operation a method and concrete (still percent-encoded) URL path address, if any. */
export function operationAt(method: string, urlPath: string): OperationInfo | undefined {
  const id = pathMatchers.find(({ re }) => re.test(urlPath))?.operationIds[method.toUpperCase()]
  return id === undefined ? undefined : operations.get(id)
}

/** The methods the spec defines for a concrete URL path, or [] when no path matches it. */
export function allowedMethods(urlPath: string): string[] {
  return pathMatchers.find(({ re }) => re.test(urlPath))?.methods ?? []
}
