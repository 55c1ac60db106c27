import { Agent, request } from 'node:http'
import t from 'tap'
import { build } from '../helper.js'
import { gracefulShutdown } from '../../lib/shutdown.js'

type Answer = { status: number; connection: string | undefined; body: string }

/** One GET over `agent`; rejects when the connection fails or is cut. */
function get(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => ok({ status: res.statusCode!, connection: res.headers.connection, body }))
      res.on('error', fail)
    })
    req.on('error', fail)
    req.end()
  })
}

/** The app on a real port with a test-only route that answers when `release` is called. */
async function slowServer(tt: Parameters<typeof build>[0], graceMs: number) {
  const { app } = await build(tt)
  const started: (() => void)[] = []
  let release!: () => void
  const released = new Promise<void>((ok) => (release = ok))
  app.get('/slow', async () => {
    for (const s of started.splice(0)) s()
    await released
    return 'done'
  })
  const shutdown = gracefulShutdown(app, graceMs)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const agent = new Agent({ keepAlive: true })
  tt.teardown(() => agent.destroy())
  const slowStarted = () => new Promise<void>((ok) => started.push(ok))
  return { app, shutdown, port, agent, release, slowStarted }
}

t.test('an idle kept-alive connection does not hold the shutdown up', async (tt) => {
  const { app, shutdown, port, agent } = await slowServer(tt, 60_000)
  const live = await get(port, '/health/live', agent)
  tt.equal(live.status, 200)
  tt.not(live.connection, 'close', 'the connection is kept alive')
  tt.equal(Object.values(agent.freeSockets).flat().length, 1, 'one idle connection in the pool')
  const result = await shutdown.close()
  tt.same(result, { forced: false }, 'closed cleanly, long before the 60 s grace period or the 75 s keep-alive timeout')
  tt.notOk(app.server.listening)
})

t.test(
  'a request in progress finishes, is told to close its connection, and new connections are refused',
  async (tt) => {
    const { app, shutdown, port, agent, release, slowStarted } = await slowServer(tt, 60_000)
    const waiting = slowStarted()
    const slow = get(port, '/slow', agent)
    await waiting
    const closed = shutdown.close()
    // The listener is closed synchronously by close(); a new connection is refused, not answered.
    await new Promise((ok) => setImmediate(ok))
    tt.notOk(app.server.listening, 'no longer listening')
    const refused = await get(port, '/health/live', new Agent()).then(
      (a) => `answered ${a.status}`,
      (err: NodeJS.ErrnoException) => err.code,
    )
    tt.equal(refused, 'ECONNREFUSED', 'a new connection is refused')
    release()
    const answer = await slow
    tt.same(answer, { status: 200, connection: 'close', body: 'done' }, 'the request in progress got its whole answer')
    tt.same(await closed, { forced: false })
  },
)

t.test('a request still running after the grace period is cut, and the shutdown says so', async (tt) => {
  const { shutdown, port, agent, release, slowStarted } = await slowServer(tt, 200)
  tt.teardown(release)
  const waiting = slowStarted()
  const slow = get(port, '/slow', agent).then(
    (a) => `answered ${a.status}`,
    (err: NodeJS.ErrnoException) => err.code,
  )
  await waiting
  tt.same(await shutdown.close(), { forced: true })
  tt.equal(await slow, 'ECONNRESET', 'the client sees the connection cut, not an answer')
})

t.test('force() cuts the remaining connections at once (a second signal)', async (tt) => {
  const { shutdown, port, agent, release, slowStarted } = await slowServer(tt, 60_000)
  tt.teardown(release)
  const waiting = slowStarted()
  const slow = get(port, '/slow', agent).catch((err: NodeJS.ErrnoException) => err.code)
  await waiting
  const closed = shutdown.close()
  shutdown.force()
  tt.same(await closed, { forced: true })
  tt.equal(await slow, 'ECONNRESET')
})
