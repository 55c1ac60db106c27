import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knex from 'knex'
import { KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../app.js'
import { loadConfig, type Config } from '../lib/config.js'
import { checkAgainstSpec } from './spec-check.js'
import { startSmtp } from './smtp.js'
import { capturing, logStream, recordRequestSecrets, recordSecrets } from './log-capture.js'

type T = { teardown(fn: () => unknown): void; fail(msg: string): void }

/** Which database this run of the suite uses: `TEST_DB=postgres` or SQLite by default. */
export const database: 'sqlite' | 'postgres' = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite'
const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A port on which nothing listens right now: bound once (the OS picks it), then released. */
export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok))
  const { port } = srv.address() as { port: number }
  await new Promise((ok) => srv.close(ok))
  return port
}

/** A new, empty PostgreSQL database, dropped again at teardown. */
export async function freshPostgresUrl(t: T): Promise<string> {
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  await admin.raw('CREATE DATABASE ??', [name])
  await admin.destroy()
  t.teardown(async () => {
    const a = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
    await a.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name])
    await a.destroy()
  })
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** A new, empty database of this run's engine for one app, removed again at teardown. */
async function freshDatabaseUrl(t: T): Promise<string> {
  if (database === 'postgres') return freshPostgresUrl(t)
  const file = join(tmpdir(), `signal-server-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.sqlite`)
  t.teardown(() => {
    for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true })
  })
  return file
}

export type ApiResponse<B = any> = { status: number; body: B; headers: Record<string, unknown>; text: string }
export type RequestOptions = {
  token?: string
  headers?: Record<string, string>
  raw?: string | Buffer
  form?: Record<string, string>
  remoteAddress?: string
}

/**
 * Builds the app on a fresh database with test-friendly settings (throttles off, cheap bcrypt).
 * `overrides` take any config value. Closed at teardown.
 */
export async function build(t: T, overrides: Partial<Config> = {}) {
  const databaseUrl = await freshDatabaseUrl(t)
  const config = loadConfig(
    {},
    {
      databaseUrl,
      secretKey: 'test-secret-key-that-is-long-enough-0123456789',
      bcryptCost: 4,
      throttleAnon: 'off',
      throttleUser: 'off',
      throttlePrekeybundle: 'off',
      // Limits are off unless a test is about them (test/routes/prekey-claim-limit.test.ts).
      prekeyClaimLimit: 'off',
      // Off unless a test is about the web client: it then builds the bundle (test/web-bundle.ts),
      // rather than serving whatever an earlier `npm run build` left in dist/web/.
      webClient: false,
      // Under `npm test` everything is logged, so that the log audit can prove no secret is.
      logLevel: capturing ? 'trace' : 'silent',
      ...overrides,
    },
  )
  const app = await buildApp(config, capturing ? { logStream: logStream() } : { logger: false })
  t.teardown(() => app.close())
  return { app, config, api: client(app, t) }
}

/** Builds the app with a real SMTP server behind it. */
export async function buildWithMail(t: T, overrides: Partial<Config> = {}) {
  const smtp = await startSmtp()
  t.teardown(() => smtp.close())
  return { ...(await build(t, { emailHost: '127.0.0.1', emailPort: smtp.port, ...overrides })), smtp }
}

/** Requests through app.inject; every response is checked against openapi.yaml and fails the test if it breaks it. */
export function client(app: FastifyInstance, t: T) {
  async function request<B = any>(
    method: string,
    url: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<ApiResponse<B>> {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    let payload: string | Buffer | undefined = opts.raw
    if (opts.form) {
      payload = new URLSearchParams(opts.form).toString()
      headers['content-type'] ??= 'application/x-www-form-urlencoded'
    } else if (body !== undefined) {
      payload = JSON.stringify(body)
      headers['content-type'] ??= 'application/json'
    }
    recordRequestSecrets(url, headers)
    recordSecrets(body)
    if (opts.form) recordSecrets(opts.form)
    const res = await app.inject({ method: method as 'GET', url, headers, payload, remoteAddress: opts.remoteAddress })
    const contentType = String(res.headers['content-type'] ?? '')
    let parsed: unknown = res.body === '' ? undefined : res.body
    if (contentType.startsWith('application/json')) parsed = JSON.parse(res.body)
    recordSecrets(parsed, true)
    const problems = checkAgainstSpec(method, url, {
      status: res.statusCode,
      contentType,
      body: parsed,
      headers: res.headers,
    })
    for (const p of problems) t.fail(`contract: ${p}`)
    return { status: res.statusCode, body: parsed as B, headers: res.headers, text: res.body }
  }
  return {
    request,
    get: <B = any>(url: string, opts?: RequestOptions) => request<B>('GET', url, undefined, opts),
    post: <B = any>(url: string, body?: unknown, opts?: RequestOptions) => request<B>('POST', url, body, opts),
    delete: <B = any>(url: string, body?: unknown, opts?: RequestOptions) => request<B>('DELETE', url, body, opts),
  }
}

export type Api = ReturnType<typeof client>

// ---- fixtures -------------------------------------------------------------------------------

export const PASSWORD = 'correct-horse-battery-staple'
let counter = 0
export const uniqueEmail = (name = 'user') => `${name}${++counter}.${randomBytes(3).toString('hex')}@example.com`

/** A libsignal-shaped Curve25519 public key: 0x05 then 32 bytes, base64. */
export const publicKey = () => Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64')
/** 64 random bytes: well-formed, but no key's signature. */
export const signature = () => randomBytes(64).toString('base64')
export const preKeys = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ keyId: from + i, publicKey: publicKey() }))

// Identity private keys by their public key, so fixtures can sign for a device made earlier.
const identities = new Map<string, PrivateKey>()

/** A new identity key pair (libsignal's own); returns the public key, base64. */
export function identityKey(): string {
  const priv = PrivateKey.generate()
  const pub = Buffer.from(priv.getPublicKey().serialize()).toString('base64')
  identities.set(pub, priv)
  return pub
}

/** Signs `message` (base64) with the identity whose public key is given, as libsignal clients do. */
export function sign(identity: string, message: string): string {
  const priv = identities.get(identity)
  if (!priv) throw new Error('sign: not an identity made by identityKey()')
  return Buffer.from(priv.sign(Buffer.from(message, 'base64'))).toString('base64')
}

/** A signed prekey signed by `identity` (a fresh identity when omitted, so no stored device's). */
export function signedPreKey(keyId = 1, identity = identityKey()) {
  const pub = publicKey()
  return { keyId, publicKey: pub, signature: sign(identity, pub) }
}

/** A Kyber-1024 prekey (libsignal's own) signed by `identity`. */
export function kyberPreKey(keyId: number, identity: string) {
  const pub = Buffer.from(KEMKeyPair.generate().getPublicKey().serialize()).toString('base64')
  return { keyId, publicKey: pub, signature: sign(identity, pub) }
}
export const kyberPreKeys = (from: number, count: number, identity: string) =>
  Array.from({ length: count }, (_, i) => kyberPreKey(from + i, identity))

export function deviceBody(registrationId: number, address = `device-${registrationId}`, preKeyCount = 10) {
  const identity = identityKey()
  return {
    address,
    identityKey: identity,
    registrationId,
    preKeys: preKeys(1, preKeyCount),
    signedPreKey: signedPreKey(1, identity),
  }
}

/** Signs up and logs in; returns the token. */
export async function signUp(api: Api, email = uniqueEmail(), password = PASSWORD) {
  const created = await api.post('/auth/users/', { email, password })
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${created.text}`)
  const login = await api.post('/auth/login/', { email, password })
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`)
  return { id: created.body.id as number, email, password, token: login.body.auth_token as string }
}

let nextRegistrationId = 1000
/** A signed-up user with a registered device. */
export async function userWithDevice(api: Api, opts: { email?: string; preKeyCount?: number } = {}) {
  const user = await signUp(api, opts.email)
  const registrationId = ++nextRegistrationId
  const device = deviceBody(registrationId, `${user.email}.1`, opts.preKeyCount ?? 10)
  const res = await api.post('/device/', device, { token: user.token })
  if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${res.text}`)
  return { ...user, registrationId, device }
}

/** A ciphertext as the seed's clients serialize it, addressed to a registration ID. */
export const ciphertext = (registrationId: number, body = randomBytes(48).toString('base64')) =>
  JSON.stringify({ type: 3, body, registrationId })
