import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createKnex, migrateLatest } from '../../db/connection.js'
import { freshPostgresUrl, freePort, PASSWORD, uniqueEmail, deviceBody, ciphertext } from '../helper.js'
import { fetchChecked } from '../spec-check.js'
import { connect, socketUrl } from '../message-socket.js'
import {
  capturing,
  declareSource,
  recordRequestSecrets,
  recordSecret,
  recordSecrets,
  spawnedLogStream,
} from '../log-capture.js'
import { REDIS_URL, requires } from '../requirements.js'

// Real server processes (server.ts, as deployed) sharing one PostgreSQL database and one Redis.
// Under `npm test` they log at trace into the capture directory, and every secret sent to them or
// answered by them is recorded, so that the log audit covers them like the apps built in-process.

type T = Parameters<typeof freshPostgresUrl>[0] & { comment(msg: string): void }

/** The tap options of every test here: without PostgreSQL or Redis, skipped outside CI (test/requirements.ts). */
export const needsCluster = await requires('postgres', 'redis')
const root = fileURLToPath(new URL('../../', import.meta.url))

export type Instance = { name: string; address: string; process: ChildProcess; output: string[]; exited: Promise<void> }

/**
 * A new database, migrated, whose user ids start at a random point: Redis outlives the database,
 * and per-user throttle counters left by an earlier run must not count against this one's users.
 */
export async function sharedDatabase(t: T): Promise<string> {
  const url = await freshPostgresUrl(t)
  const knex = createKnex(url)
  await migrateLatest(knex)
  await knex.raw(`SELECT setval('users_id_seq', ?)`, [randomInt(1_000_000, 2_000_000_000)])
  await knex.destroy()
  return url
}

/** The environment of every instance: the same database, Redis and SECRET_KEY. */
export function sharedEnvironment(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const secretKey = `multi-instance-${randomBytes(24).toString('hex')}`
  recordSecret(secretKey, 'spawned')
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    SECRET_KEY: secretKey,
    PUBLIC_URL: 'http://chat.example.test',
    HOST: '127.0.0.1',
    BCRYPT_COST: '4',
    THROTTLE_ANON: 'off',
    THROTTLE_USER: 'off',
    THROTTLE_PREKEYBUNDLE: 'off',
    LOG_LEVEL: capturing ? 'trace' : 'warn',
    ...extra,
  }
}

/** Starts server.ts on a free port and waits until it answers HTTP. Killed (SIGKILL) at teardown. */
export async function startInstance(t: T, name: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  declareSource('spawned')
  const log = spawnedLogStream(`spawned-${name}-${port}`)
  const output: string[] = []
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString())
    log?.write(chunk)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('close', () => log?.end())
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const address = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`instance ${name} exited at start-up: ${output.join('').slice(-2000)}`)
    try {
      // off-contract: a start-up poll that waits for the first answer; later requests go through request().
      if ((await fetch(`${address}/auth/users/me/`)).status === 401) break
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`instance ${name} did not start: ${output.join('').slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { name, address, process: child, output, exited }
}

export type Answer = { status: number; body: any } // eslint-disable-line @typescript-eslint/no-explicit-any

/** One HTTP request to an instance; the answer is checked against openapi.yaml. */
export async function call(
  t: T,
  instance: Instance,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  recordRequestSecrets(path, headers, 'spawned')
  recordSecrets(body, false, 'spawned')
  const res = await fetchChecked(t, instance.address + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  recordSecrets(res.body, true, 'spawned')
  return { status: res.status, body: res.body }
}

export type Account = { email: string; token: string; registrationId: number; address: string }

let nextRegistrationId = 20_000
/** Signs up, logs in and registers a device, through `instance`. */
export async function account(t: T, instance: Instance, name = 'user'): Promise<Account> {
  const email = uniqueEmail(name)
  const ok = (a: Answer, what: string) => {
    if (a.status >= 300) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`)
    return a
  }
  ok(await call(t, instance, 'POST', '/auth/users/', { email, password: PASSWORD }), 'sign-up')
  const token = ok(await call(t, instance, 'POST', '/auth/login/', { email, password: PASSWORD }), 'login').body
    .auth_token as string
  const registrationId = ++nextRegistrationId
  const address = `${email}.1`
  ok(await call(t, instance, 'POST', '/device/', deviceBody(registrationId, address, 1), token), 'device')
  return { email, token, registrationId, address }
}

/** Sends a message from `from` to `to` through `instance`; returns the stored message. */
export async function sendMessage(t: T, instance: Instance, from: Account, to: Account, body?: string) {
  const res = await call(
    t,
    instance,
    'POST',
    `/messages/${from.registrationId}/`,
    { recipient: to.email, message: ciphertext(to.registrationId, body) },
    from.token,
  )
  if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: number; content: string; recipientAddress: string }
}

/** Two instances of server.ts on one new database and the shared Redis. */
export async function pair(t: T, extra: Record<string, string> = {}): Promise<[Instance, Instance]> {
  const env = sharedEnvironment(await sharedDatabase(t), extra)
  return Promise.all([startInstance(t, 'A', env), startInstance(t, 'B', env)])
}

/** Opens `who`'s message socket on `instance`. */
export const openOn = (t: T, instance: Instance, who: Account) =>
  connect(t, socketUrl(instance.address, who.registrationId), { token: who.token })
