import t from 'tap'
import { pair, call, account, sendMessage, openOn, needsCluster } from './cluster.js'
import { openSocket, socketUrl } from '../message-socket.js'

// Real server processes (server.ts) on different ports sharing one PostgreSQL database and one
// Redis, whatever TEST_DB says: what README's "Running several instances" promises, end to end.

t.test(
  'a message sent through instance A is pushed to a device connected to instance B, and back',
  needsCluster,
  async (tt) => {
    const [a, b] = await pair(tt)
    const alice = await account(tt, a, 'alice')
    const bob = await account(tt, b, 'bob')
    const bobOnB = await openOn(tt, b, bob)
    const aliceOnA = await openOn(tt, a, alice)
    tt.same(await bobOnB.backlog(), [])
    await aliceOnA.backlog()

    const toBob = await sendMessage(tt, a, alice, bob, 'through A')
    tt.same(await bobOnB.messages(1), [toBob], 'stored through A, pushed by B')
    const toAlice = await sendMessage(tt, b, bob, alice, 'through B')
    tt.same(await aliceOnA.messages(1), [toAlice], 'stored through B, pushed by A')
    tt.same([bobOnB.frames, aliceOnA.frames], [[], []], 'nothing else')

    // One socket per device across instances: a new one on A closes the one on B.
    const bobOnA = await openOn(tt, a, bob)
    tt.equal((await bobOnB.closed).code, 4409, 'the older socket, on B, is closed as replaced')
    await bobOnA.backlog()
    const next = await sendMessage(tt, b, alice, bob, 'after the move')
    tt.same(await bobOnA.messages(1), [next])
  },
)

t.test('a token logged out on A is refused on B at once, and its socket on B closes', needsCluster, async (tt) => {
  const [a, b] = await pair(tt)
  const bob = await account(tt, a, 'bob')
  tt.equal((await call(tt, b, 'GET', '/auth/users/me/', undefined, bob.token)).status, 200, 'the token works on B')
  const onB = await openOn(tt, b, bob)
  await onB.backlog()
  tt.equal((await call(tt, a, 'POST', '/auth/logout/', undefined, bob.token)).status, 204, 'logout on A')
  const refused = await call(tt, b, 'GET', '/auth/users/me/', undefined, bob.token)
  tt.same([refused.status, refused.body.code], [401, 'not_authenticated'], 'refused on B')
  tt.equal((await onB.closed).code, 4401, "B closed the token's socket")
  const again = await openSocket(tt, socketUrl(b.address, bob.registrationId), { token: bob.token }).refused
  tt.equal(again?.status, 401, 'and B refuses a new socket')
})
