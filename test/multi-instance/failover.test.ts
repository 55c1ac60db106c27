import t from 'tap'
import { pair, call, account, sendMessage, openOn, needsCluster } from './cluster.js'

// Real server processes (server.ts) on different ports sharing one PostgreSQL database and one
// Redis, whatever TEST_DB says: what README's "Running several instances" promises, end to end.

t.test(
  'a device whose instance is killed reconnects to the other and gets every unacknowledged message',
  needsCluster,
  async (tt) => {
    const [a, b] = await pair(tt)
    const alice = await account(tt, b, 'alice')
    const bob = await account(tt, a, 'bob')
    const onA = await openOn(tt, a, bob)
    await onA.backlog()
    const before = []
    for (let i = 0; i < 5; i++) before.push(await sendMessage(tt, b, alice, bob, `before ${i}`))
    tt.same(await onA.messages(5), before, 'pushed through A')
    tt.same(await onA.ack([before[0].id, before[1].id]), {
      type: 'acked',
      deleted: [before[0].id, before[1].id],
      missing: [],
    })

    a.process.kill('SIGKILL')
    await a.exited
    tt.equal((await onA.closed).code, 1006, 'the connection dropped without a close frame')

    const during = []
    for (let i = 0; i < 3; i++) during.push(await sendMessage(tt, b, alice, bob, `while away ${i}`))
    const onB = await openOn(tt, b, bob)
    const backlog = await onB.backlog()
    tt.same(backlog, [...before.slice(2), ...during], 'every unacknowledged message, oldest first, none lost')
    tt.same((await onB.ack(backlog.map((m) => m.id))).missing, [])
    tt.same(
      (await call(tt, b, 'GET', `/messages/${bob.registrationId}/`, undefined, bob.token)).body,
      [],
      'the queue is empty once acknowledged',
    )
  },
)
