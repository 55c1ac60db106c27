import t from 'tap'
import { pair, call, account, sendMessage, openOn } from './cluster.js'
import { openSocket, socketUrl } from '../message-socket.js'

// Real server processes (server.ts) on different ports sharing one PostgreSQL database and one
// Redis, whatever TEST_DB says: what README's "Running several instances" promises, end to end.

t.test('a message sent through instance A is pushed to a device connected to instance B, and back', async (t) => {
  const [a, b] = await pair(t)
  const alice = await account(t, a, 'alice')
  const bob = await account(t, b, 'bob')
  const bobOnB = await openOn(t, b, bob)
  const aliceOnA = await openOn(t, a, alice)
  t.same(await bobOnB.backlog(), [])
  await aliceOnA.backlog()

  const toBob = await sendMessage(t, a, alice, bob, 'through A')
  t.same(await bobOnB.messages(1), [toBob], 'stored through A, pushed by B')
  const toAlice = await sendMessage(t, b, bob, alice, 'through B')
  t.same(await aliceOnA.messages(1), [toAlice], 'stored through B, pushed by A')
  t.same([bobOnB.frames, aliceOnA.frames], [[], []], 'nothing else')

  // One socket per device across instances: a new one on A closes the one on B.
  const bobOnA = await openOn(t, a, bob)
  t.equal((await bobOnB.closed).code, 4409, 'the older socket, on B, is closed as replaced')
  await bobOnA.backlog()
  const next = await sendMessage(t, b, alice, bob, 'after the move')
  t.same(await bobOnA.messages(1), [next])
})

t.test('a token logged out on A is refused on B at once, and its socket on B closes', async (t) => {
  const [a, b] = await pair(t)
  const bob = await account(t, a, 'bob')
  t.equal((await call(t, b, 'GET', '/auth/users/me/', undefined, bob.token)).status, 200, 'the token works on B')
  const onB = await openOn(t, b, bob)
  await onB.backlog()
  t.equal((await call(t, a, 'POST', '/auth/logout/', undefined, bob.token)).status, 204, 'logout on A')
  const refused = await call(t, b, 'GET', '/auth/users/me/', undefined, bob.token)
  t.same([refused.status, refused.body.code], [401, 'not_authenticated'], 'refused on B')
  t.equal((await onB.closed).code, 4401, "B closed the token's socket")
  const again = await openSocket(t, socketUrl(b.address, bob.registrationId), { token: bob.token }).refused
  t.equal(again?.status, 401, 'and B refuses a new socket')
})
