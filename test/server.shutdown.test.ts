// SIGTERM in the middle of a burst of message sends to the real server process (server.ts): every
// send that was answered 2xx is stored exactly as sent, nothing else is stored, no send gets a 5xx,
// requests after the listener closed are refused, and the process exits 0.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import knex from 'knex'
import t, { type Test } from 'tap'
import { ciphertext, database, deviceBody, freePort, freshPostgresUrl, PASSWORD, uniqueEmail } from './helper.js'
import { capturing, recordRequestSecrets, recordSecrets, spawnedLogStream } from './log-capture.js'
import { checkAgainstSpec } from './spec-check.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SENDS = 300
const SIGTERM_AFTER = 100 // answers received before the signal

type Answer = { status: number; body: any } | { error: string }

/**
 * A JSON request over `agent` (kept-alive connections); a failed connection resolves as { error: code }.
 * The secrets it sends (token, password, keys, ciphertext) and receives are recorded for the log audit.
 */
function call(
  tt: Test,
  agent: Agent,
  port: number,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers: Record<string, string> = {}
  if (payload) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  recordRequestSecrets(path, headers, 'spawned')
  recordSecrets(body, false, 'spawned')
  return new Promise((ok) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('error', (err: NodeJS.ErrnoException) => ok({ error: err.code ?? err.message }))
      // An answer cut off mid-body counts as no answer (the promise settles once, whichever comes first).
      res.on('close', () => ok({ error: 'ECONNRESET' }))
      res.on('end', () => {
        const contentType = String(res.headers['content-type'] ?? '')
        const parsed = contentType.startsWith('application/json') ? JSON.parse(text) : text || undefined
        recordSecrets(parsed, true, 'spawned')
        for (const p of checkAgainstSpec(method, path, {
          status: res.statusCode!,
          contentType,
          body: parsed,
          headers: res.headers,
        }))
          tt.fail(`contract: ${p}`)
        ok({ status: res.statusCode!, body: parsed })
      })
    })
    req.on('error', (err: NodeJS.ErrnoException) => ok({ error: err.code ?? err.message }))
    req.end(payload)
  })
}

async function userWithDevice(tt: Test, agent: Agent, port: number, registrationId: number) {
  const email = uniqueEmail('shutdown')
  const created = await call(tt, agent, port, 'POST', '/auth/users/', { email, password: PASSWORD })
  if (!('status' in created) || created.status !== 201) throw new Error(`sign-up: ${JSON.stringify(created)}`)
  const login = await call(tt, agent, port, 'POST', '/auth/login/', { email, password: PASSWORD })
  if (!('status' in login) || login.status !== 200) throw new Error(`login: ${JSON.stringify(login)}`)
  const token = login.body.auth_token as string
  const device = await call(tt, agent, port, 'POST', '/device/', deviceBody(registrationId, `${email}.1`), token)
  if (!('status' in device) || device.status !== 201) throw new Error(`device: ${JSON.stringify(device)}`)
  return { email, token, registrationId }
}

async function databaseUrl(tt: Test): Promise<string> {
  if (database === 'postgres') return freshPostgresUrl(tt)
  const dir = join(tmpdir(), `signal-server-shutdown-${randomBytes(6).toString('hex')}`)
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'db.sqlite')
}

// A server process and 300 requests: slow on a loaded 2-core machine, hence the longer timeout.
t.test(
  'SIGTERM during a burst of sends: acknowledged sends stored whole, nothing else, exit 0',
  { timeout: 300_000 },
  async (tt) => {
    const url = await databaseUrl(tt)
    const port = await freePort()
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: url,
      // Under `npm test`, trace into the capture directory: no assertion reads this server's output.
      LOG_LEVEL: capturing ? 'trace' : 'warn',
      THROTTLE_ANON: 'off',
      THROTTLE_USER: 'off',
      BCRYPT_COST: '4',
      SHUTDOWN_GRACE_PERIOD: '20',
    }
    const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const log = spawnedLogStream(`server-shutdown-${port}`)
    if (log) child.stdout.on('data', (d) => log.write(d))
    else child.stdout.resume()
    child.stderr.on('data', (d) => {
      stderr += d
      log?.write(d)
    })
    child.once('close', () => log?.end())
    const exited = new Promise<{ code: number | null; signal: string | null }>((ok) =>
      child.once('exit', (code, signal) => ok({ code, signal })),
    )
    tt.teardown(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')))

    const agent = new Agent({ keepAlive: true, maxSockets: 8 })
    tt.teardown(() => agent.destroy())
    const deadline = Date.now() + 120_000
    for (let ready = false; !ready; ) {
      if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`)
      if (Date.now() > deadline) throw new Error(`server not ready within 120 s: ${stderr}`)
      const res = await call(tt, new Agent(), port, 'GET', '/health/ready')
      ready = 'status' in res && res.status === 200
      if (!ready) await new Promise((ok) => setTimeout(ok, 200))
    }
    const alice = await userWithDevice(tt, agent, port, 3101)
    const bob = await userWithDevice(tt, agent, port, 3102)

    // Each send is distinct, so a stored row can be matched to exactly one send.
    const contents = Array.from({ length: SENDS }, (_, i) =>
      ciphertext(bob.registrationId, Buffer.from(`message ${i} ${randomBytes(24).toString('hex')}`).toString('base64')),
    )
    let answered = 0
    let signalled = false
    const answers = await Promise.all(
      contents.map(async (message) => {
        const answer = await call(
          tt,
          agent,
          port,
          'POST',
          `/messages/${alice.registrationId}/`,
          { recipient: bob.email, message },
          alice.token,
        )
        if (++answered === SIGTERM_AFTER) {
          signalled = true
          child.kill('SIGTERM')
        }
        return answer
      }),
    )
    tt.ok(signalled, 'SIGTERM was sent in the middle of the burst')
    const exit = await exited
    tt.same(exit, { code: 0, signal: null }, `exit 0 after SIGTERM (stderr: ${stderr})`)

    const acknowledged = new Map<number, string>()
    const refused: string[] = []
    for (const [i, a] of answers.entries()) {
      if ('error' in a) refused.push(a.error)
      else if (a.status === 201) acknowledged.set(a.body.id, contents[i])
      else tt.fail(`send ${i}: unexpected ${a.status} ${JSON.stringify(a.body)}`)
    }
    tt.ok(
      acknowledged.size >= SIGTERM_AFTER,
      `${acknowledged.size} sends acknowledged (at least those before the signal)`,
    )
    tt.ok(refused.length > 0, `${refused.length} sends after the shutdown were refused`)
    tt.same(
      [...new Set(refused)].filter((code) => !['ECONNREFUSED', 'ECONNRESET'].includes(code)),
      [],
      `failures are refused or reset connections, never answers: ${[...new Set(refused)]}`,
    )
    tt.same(
      await call(tt, new Agent(), port, 'GET', '/health/live'),
      { error: 'ECONNREFUSED' },
      'after exit: connection refused',
    )

    const db =
      database === 'postgres'
        ? knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } })
        : knex({ client: 'better-sqlite3', connection: { filename: url }, useNullAsDefault: true })
    tt.teardown(() => db.destroy())
    const rows = await db('messages').select(
      'id',
      'content',
      'sender_address',
      'recipient_address',
      'sender_registration_id',
    )
    const stored = new Map(rows.map((r) => [Number(r.id), r]))
    tt.same(
      [...stored.keys()].sort((a, b) => a - b),
      [...acknowledged.keys()].sort((a, b) => a - b),
      'exactly the acknowledged sends are stored',
    )
    let whole = 0
    for (const [id, content] of acknowledged) {
      const row = stored.get(id)
      if (
        row?.content === content &&
        row.sender_address === `${alice.email}.1` &&
        row.recipient_address === `${bob.email}.1` &&
        row.sender_registration_id === alice.registrationId
      )
        whole++
      else tt.fail(`message ${id} is not stored as sent: ${JSON.stringify(row)}`)
    }
    tt.equal(whole, acknowledged.size, 'every acknowledged message is stored whole, byte for byte')
  },
)
