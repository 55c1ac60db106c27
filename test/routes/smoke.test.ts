import t from 'tap'
import { build, ciphertext, userWithDevice } from '../helper.js'

t.test('walk-through: sign up, device, bundle, send, fetch, delete', async (t) => {
  const { api } = await build(t)
  const alice = await userWithDevice(t ? api : api)
  const bob = await userWithDevice(api)
  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  t.equal(bundle.status, 200)
  t.equal(bundle.body.registrationId, bob.registrationId)
  t.ok(bundle.body.preKey)
  const sent = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: ciphertext(bob.registrationId) },
    { token: alice.token },
  )
  t.equal(sent.status, 201)
  const inbox = await api.get(`/messages/${bob.registrationId}`, { token: bob.token })
  t.equal(inbox.status, 200)
  t.equal(inbox.body.length, 1)
  const del = await api.delete(`/messages/${bob.registrationId}/`, [inbox.body[0].id, 999], { token: bob.token })
  t.same(del.body[0], 'message_deleted')
  t.equal(del.body[1].code, 'non-existant_message')
})
