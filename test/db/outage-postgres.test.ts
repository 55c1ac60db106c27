import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  account,
  call,
  needsCluster,
  openOn,
  sharedDatabase,
  sharedEnvironment,
  startInstance,
} from '../multi-instance/cluster.js'
import type { Account, Answer, Instance } from '../multi-instance/cluster.js'
import type { TestSocket } from '../message-socket.js'
import { ciphertext, PASSWORD, uniqueEmail } from '../helper.js'
import { TcpProxy } from '../tcp-proxy.js'

// A real server process (server.ts) whose PostgreSQL sits behind a TCP proxy that the test cuts:
// every connection dropped at once and new ones refused for some seconds, while sends, fetches,
// logins and socket deliveries run. What README's Security section promises for an outage: every
// request is answered 2xx or 503 `service_unavailable` with Retry-After (never 401 or another 4xx,
// never a hang), /health/ready is 503 during the outage and 200 after, service resumes without a
// restart, nothing acknowledged is lost and nothing is acknowledged twice.

const OUTAGE_MS = 6000
const DATABASE_TIMEOUT_S = 2

type Sample = { what: string; status: number; code?: string; ms: number; during: boolean }

t.test('a PostgreSQL outage answers 503, never 401, and loses nothing acknowledged', needsCluster, async (tt) => {
  const realUrl = new URL(await sharedDatabase(tt))
  const proxy = await TcpProxy.start({ host: realUrl.hostname, port: Number(realUrl.port || 5432) })
  tt.teardown(() => proxy.stop())
  const proxied = new URL(realUrl)
  proxied.port = String(proxy.port)
  const server: Instance = await startInstance(
    tt,
    'outage',
    sharedEnvironment(proxied.toString(), { DATABASE_TIMEOUT: String(DATABASE_TIMEOUT_S) }),
  )

  const alice = await account(tt, server, 'alice')
  const bob = await account(tt, server, 'bob') // reads over his socket, acknowledging there
  const dave = await account(tt, server, 'dave') // reads with GET
  const carol = uniqueEmail('carol') // only logs in
  tt.equal((await call(tt, server, 'POST', '/auth/users/', { email: carol, password: PASSWORD })).status, 201)

  let outage = false
  let stopped = false
  const samples: Sample[] = []
  const timed = async (what: string, run: () => Promise<Answer>) => {
    const during = outage
    const started = Date.now()
    const answer = await run()
    samples.push({ what, status: answer.status, code: answer.body?.code, ms: Date.now() - started, during })
    return answer
  }

  // Sends: the ids answered 201 are the acknowledged ones, which must all arrive.
  const sentTo = new Map<Account, number[]>([
    [bob, []],
    [dave, []],
  ])
  const sender = async (to: Account) => {
    for (let i = 0; !stopped; i++) {
      const res = await timed('send', () =>
        call(
          tt,
          server,
          'POST',
          `/messages/${alice.registrationId}/`,
          { recipient: to.email, message: ciphertext(to.registrationId, `m${i}`) },
          alice.token,
        ),
      )
      if (res.status === 201) sentTo.get(to)!.push(res.body.id)
      await sleep(20)
    }
  }
  const fetched = new Set<number>()
  const fetcher = async () => {
    while (!stopped) {
      const res = await timed('fetch', () =>
        call(tt, server, 'GET', `/messages/${dave.registrationId}/`, undefined, dave.token),
      )
      if (res.status === 200) for (const m of res.body) fetched.add(m.id)
      await sleep(50)
    }
  }
  const loginLoop = async () => {
    while (!stopped) {
      await timed('login', () => call(tt, server, 'POST', '/auth/login/', { email: carol, password: PASSWORD }))
      await sleep(100)
    }
  }
  const readiness: { status: number; during: boolean; at: number }[] = []
  const readinessLoop = async () => {
    while (!stopped) {
      const during = outage
      const res = await call(tt, server, 'GET', '/health/ready')
      readiness.push({ status: res.status, during, at: Date.now() })
      await sleep(200)
    }
  }

  // Bob's socket: what it receives is acknowledged at once; a close that is not final reconnects.
  const received = new Set<number>()
  const deletedByAck: number[] = []
  const closeCodes: number[] = []
  const socketLoop = async () => {
    while (!stopped) {
      let socket: TestSocket
      try {
        socket = await openOn(tt, server, bob)
      } catch {
        await sleep(500) // refused (503) while the database is away: try again
        continue
      }
      const closed = socket.closed.then((c) => ({ closed: c }))
      for (;;) {
        if (stopped) break
        // Short waits, so that the loop sees `stopped` soon after the test sets it.
        const arrival = socket.messages(1, 1000).then(
          (m) => ({ m }),
          () => ({ idle: true as const }),
        )
        const next = await Promise.race([arrival, closed])
        if ('idle' in next) continue
        if ('closed' in next) {
          closeCodes.push(next.closed.code)
          break
        }
        const [message] = next.m
        received.add(message.id)
        socket.send({ type: 'ack', ids: [message.id] })
        const acked = await Promise.race([socket.next('acked', 60_000).catch(() => ({ deleted: [] })), closed])
        if ('closed' in acked) {
          closeCodes.push(acked.closed.code)
          break
        }
        deletedByAck.push(...acked.deleted)
        if (stopped) break
      }
      if (stopped) socket.ws.close()
      else await sleep(500)
    }
  }

  const loops = [sender(bob), sender(dave), fetcher(), loginLoop(), readinessLoop(), socketLoop()]
  await sleep(1500)
  outage = true
  await proxy.cut()
  await sleep(OUTAGE_MS)
  await proxy.restore()
  outage = false
  const restoredAt = Date.now()
  while (!readiness.some((r) => r.at > restoredAt && r.status === 200)) {
    if (Date.now() - restoredAt > 30_000) break
    await sleep(100)
  }
  tt.ok(Date.now() - restoredAt < 30_000, 'ready again without a restart')
  await sleep(2000) // traffic after the outage
  stopped = true
  await Promise.all(loops)

  // Every answer was a success or an honest 503.
  const byStatus = new Map<number, number>()
  for (const s of samples) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1)
  tt.comment(`answers: ${JSON.stringify(Object.fromEntries(byStatus))}; socket closes: ${closeCodes.join(',')}`)
  const wrong = samples.filter((s) => s.status >= 300 && s.status !== 503)
  if (!tt.same(wrong, [], 'no answer other than 2xx or 503: no 401, no 4xx, no 500'))
    tt.comment(
      server.output
        .join('')
        .split('\n')
        .filter((l) => l.includes('request failed'))
        .slice(0, 3)
        .join('\n'),
    )
  const unavailable = samples.filter((s) => s.status === 503)
  tt.ok(unavailable.length > 0, `the outage was seen: ${unavailable.length} answers 503`)
  tt.ok(
    unavailable.every((s) => s.code === 'service_unavailable'),
    'each 503 is service_unavailable (its Retry-After is checked against the spec)',
  )
  for (const what of ['send', 'fetch', 'login'])
    tt.ok(
      unavailable.some((s) => s.what === what),
      `${what} answered 503 during the outage`,
    )
  const slowest = Math.max(...samples.map((s) => s.ms))
  tt.ok(slowest < DATABASE_TIMEOUT_S * 1000 + 5000, `no request hung (slowest ${slowest} ms)`)
  tt.ok(
    samples.some((s) => !s.during && s.status < 300 && s.what === 'send'),
    'sends succeed again after the outage',
  )

  tt.ok(
    readiness.some((r) => r.during && r.status === 503),
    '/health/ready answered 503 during the outage',
  )
  tt.equal(readiness[readiness.length - 1].status, 200, '/health/ready answers 200 after it')
  tt.notOk(closeCodes.includes(4401), 'no socket was told its session ended')
  tt.ok(
    closeCodes.every((c) => c === 1013 || c === 1011 || c === 1005 || c === 1000),
    `sockets closed only to be reconnected: ${closeCodes.join(',') || 'none closed'}`,
  )

  // Nothing acknowledged is lost: Bob's socket got every message answered 201 ...
  const toBob = sentTo.get(bob)!
  const rest = await openOn(tt, server, bob)
  for (const m of await rest.backlog()) {
    received.add(m.id)
    deletedByAck.push(...(await rest.ack([m.id])).deleted)
  }
  tt.same(
    toBob.filter((id) => !received.has(id)),
    [],
    `every one of the ${toBob.length} messages acknowledged to the sender reached Bob's socket`,
  )
  // ... and each acknowledgement of his deleted a message once.
  tt.equal(new Set(deletedByAck).size, deletedByAck.length, 'no message was acknowledged twice')
  // An ack whose answer was lost with its socket (closed 1013 meanwhile) may still have deleted the
  // message: what counts is that nothing Bob received is left queued once he has acknowledged it all.
  tt.same(
    (await call(tt, server, 'GET', `/messages/${bob.registrationId}/`, undefined, bob.token)).body,
    [],
    'every message Bob acknowledged was deleted: his queue is empty',
  )
  // Dave's queue holds every message answered 201, whether fetched during the test or now.
  const last = await call(tt, server, 'GET', `/messages/${dave.registrationId}/`, undefined, dave.token)
  for (const m of last.body) fetched.add(m.id)
  const toDave = sentTo.get(dave)!
  tt.same(
    toDave.filter((id) => !fetched.has(id)),
    [],
    `every one of the ${toDave.length} messages to Dave is in his queue`,
  )
  tt.equal(server.process.exitCode, null, 'the server kept running')
})
