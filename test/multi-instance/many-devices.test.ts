import t from 'tap'
import { pair, account, sendMessage, openOn, type Account, needsCluster } from './cluster.js'
import type { TestSocket } from '../message-socket.js'

// Real server processes (server.ts) on different ports sharing one PostgreSQL database and one
// Redis, whatever TEST_DB says: what README's "Running several instances" promises, end to end.

t.test('100 devices connected at once each receive their own messages and nobody else', needsCluster, async (tt) => {
  const [a, b] = await pair(tt)
  const instances = [a, b]
  const sender = await account(tt, a, 'sender')
  const devices: Account[] = []
  for (let i = 0; i < 100; i += 10)
    devices.push(
      ...(await Promise.all(Array.from({ length: 10 }, (_, j) => account(tt, instances[(i + j) % 2], `d${i + j}`)))),
    )
  const sockets: TestSocket[] = await Promise.all(devices.map((d, i) => openOn(tt, instances[i % 2], d)))
  await Promise.all(sockets.map((s) => s.backlog()))

  // Two messages for each device, sent through the instance the device is not connected to and the one it is.
  const expected = new Map<number, string[]>()
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < devices.length; i += 20) {
      const batch = devices.slice(i, i + 20)
      const sent = await Promise.all(
        batch.map((d, j) =>
          sendMessage(tt, instances[(i + j + 1 + round) % 2], sender, d, `for ${d.address} #${round}`),
        ),
      )
      for (const [j, m] of sent.entries())
        expected.set(batch[j].registrationId, [...(expected.get(batch[j].registrationId) ?? []), m.content])
    }
  }
  const received = await Promise.all(sockets.map((s) => s.messages(2)))
  let wrong = 0
  received.forEach((messages, i) => {
    const d = devices[i]
    if (JSON.stringify(messages.map((m) => m.content)) !== JSON.stringify(expected.get(d.registrationId))) wrong++
    if (messages.some((m) => m.recipientAddress !== d.address)) wrong++
  })
  tt.equal(wrong, 0, 'each device got exactly its two messages, in order')
  // Whatever else was on its way has arrived by the time an ack round trip has.
  await Promise.all(sockets.map((s, i) => s.ack(received[i].map((m) => m.id))))
  tt.equal(sockets.filter((s) => s.frames.length > 0).length, 0, "no device got anyone else's message")
})
