import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { build, ciphertext, PASSWORD, signUp, userWithDevice, type ApiResponse } from '../helper.js'
import { runScript } from '../scripts/run-script.js'

// SQLite shared with other processes, as when an operator runs the CLI beside the server. (Run in
// the SQLite pass only.)
// - Another process holds the write lock longer than DATABASE_TIMEOUT: writes answer 503
//   service_unavailable (never 401, never a hang); reads still answer 200 (WAL readers do not wait
//   for a writer; they queue behind a waiting write on the server's one SQLite connection, which
//   retries asynchronously, so the event loop is never held for long); once the lock is gone
//   everything works, and nothing acknowledged is lost.
// - The CLI writing while the server writes: both finish, neither sees SQLITE_BUSY (write
//   transactions take the lock with BEGIN IMMEDIATE, and a busy statement is retried).

/** A separate process that takes the file's write lock, says so, and holds it for `ms`. */
async function holdWriteLock(file: string, ms: number) {
  const code = `
    const db = new (require('better-sqlite3'))(process.argv[1])
    db.exec('BEGIN IMMEDIATE')
    db.exec("CREATE TABLE IF NOT EXISTS lock_holder (x)")
    process.stdout.write('locked\\n')
    setTimeout(() => { db.exec('ROLLBACK'); db.close() }, Number(process.argv[2]))`
  const child = spawn(process.execPath, ['-e', code, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  await once(child.stdout, 'data')
  return { released: exited }
}

t.test('a second process holding the write lock: writes answer 503, reads go on, nothing is lost', async (tt) => {
  const { api, config } = await build(tt, { databaseTimeout: 0.5 })
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  const carol = await signUp(api)

  let stopped = false
  const samples: { what: string; status: number; code?: string; ms: number; locked: boolean }[] = []
  let locked = false
  const timed = async (what: string, run: () => Promise<ApiResponse>) => {
    const wasLocked = locked
    const started = Date.now()
    const res = await run()
    samples.push({ what, status: res.status, code: res.body?.code, ms: Date.now() - started, locked: wasLocked })
    return res
  }
  const acknowledged: number[] = []
  const loops = [
    (async () => {
      while (!stopped) {
        const res = await timed('send', () =>
          api.post(
            `/messages/${alice.registrationId}/`,
            { recipient: bob.email, message: ciphertext(bob.registrationId) },
            { token: alice.token },
          ),
        )
        if (res.status === 201) acknowledged.push(res.body.id)
        await sleep(10)
      }
    })(),
    (async () => {
      while (!stopped) {
        await timed('fetch', () => api.get(`/messages/${bob.registrationId}/`, { token: bob.token }))
        await sleep(10)
      }
    })(),
    (async () => {
      while (!stopped) {
        await timed('login', () => api.post('/auth/login/', { email: carol.email, password: PASSWORD }))
        await sleep(50)
      }
    })(),
  ]
  try {
    await sleep(300)
    const { released } = await holdWriteLock(config.databaseUrl, 2500)
    locked = true
    await released
    locked = false
    await sleep(600)
  } finally {
    stopped = true // also when the lock holder failed: no request may outlive the app
    await Promise.all(loops)
  }

  const during = samples.filter((s) => s.locked)
  const tally = (list: typeof samples) => {
    const counts: Record<string, number> = {}
    for (const s of list) counts[`${s.what} ${s.status}`] = (counts[`${s.what} ${s.status}`] ?? 0) + 1
    return JSON.stringify(counts)
  }
  tt.comment(`while locked: ${tally(during)}; after: ${tally(samples.filter((s) => !s.locked))}`)
  tt.same(
    samples.filter((s) => s.status >= 300 && s.status !== 503),
    [],
    'every answer was a success or 503: no 401, no other error',
  )
  tt.ok(
    samples.filter((s) => s.status === 503).every((s) => s.code === 'service_unavailable'),
    '503 is service_unavailable',
  )
  for (const what of ['send', 'login'])
    tt.ok(
      during.some((s) => s.what === what && s.status === 503),
      `${what} answered 503 while the file was locked`,
    )
  const reads = during.filter((s) => s.what === 'fetch')
  tt.ok(
    reads.length > 0 && reads.every((s) => s.status === 200),
    `fetches kept answering 200 while locked (${reads.length} of them)`,
  )
  const slowest = Math.max(...samples.map((s) => s.ms))
  tt.ok(slowest < 3000, `no request waited past DATABASE_TIMEOUT by much (slowest ${slowest} ms)`)
  tt.ok(
    samples.some((s) => !s.locked && s.what === 'send' && s.status === 201),
    'sends succeed again after the lock is released',
  )
  const queue = await api.get(`/messages/${bob.registrationId}/`, { token: bob.token })
  const queued = new Set((queue.body as { id: number }[]).map((m) => m.id))
  tt.same(
    acknowledged.filter((id) => !queued.has(id)),
    [],
    `every one of the ${acknowledged.length} acknowledged sends is queued`,
  )
})

t.test('the CLI writes beside a busy server: both finish, no SQLITE_BUSY', async (tt) => {
  const { api, config } = await build(tt)
  const alice = await userWithDevice(api)
  const bob = await userWithDevice(api)
  let stopped = false
  const statuses: number[] = []
  const sending = (async () => {
    while (!stopped) {
      const res = await api.post(
        `/messages/${alice.registrationId}/`,
        { recipient: bob.email, message: ciphertext(bob.registrationId) },
        { token: alice.token },
      )
      statuses.push(res.status)
    }
  })()
  const env = { DATABASE_URL: config.databaseUrl, SECRET_KEY: config.secretKey, BCRYPT_COST: '4' }
  const runs = await Promise.all(
    [1, 2, 3].map((i) =>
      runScript('create-user.ts', ['--email', `cli-${i}@example.com`], {
        ...env,
        NEW_USER_PASSWORD: 'staple-lantern-orbit-42',
      }),
    ),
  )
  const purge = await runScript('purge-expired.ts', [], env)
  stopped = true
  await sending
  tt.same(
    runs.map((r) => r.code),
    [0, 0, 0],
    'three create-user runs beside the server all succeeded',
  )
  tt.equal(purge.code, 0, `purge-expired succeeded beside the server ${purge.stderr.slice(0, 200)}`)
  tt.ok(statuses.length > 0, `the server sent ${statuses.length} messages meanwhile`)
  tt.same(
    statuses.filter((s) => s !== 201),
    [],
    'and every send succeeded',
  )
})
