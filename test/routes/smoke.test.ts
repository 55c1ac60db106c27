import t from 'tap'
import { build, ciphertext, userWithDevice } from '../helper.js'

t.test('walk-through: sign up, device, bundle, send, fetch, delete', async (tt) => {
  const { api } = await build(tt)
  const alice = await userWithDevice(tt ? api : api)
  const bob = await userWithDevice(api)
  const bundle = await api.get(`/prekeybundle/${bob.email}/${alice.registrationId}/`, { token: alice.token })
  tt.equal(bundle.status, 200)
  tt.equal(bundle.body.registrationId, bob.registrationId)
  tt.ok(bundle.body.preKey)
  const sent = await api.post(
    `/messages/${alice.registrationId}/`,
    { recipient: bob.email, message: ciphertext(bob.registrationId) },
    { token: alice.token },
  )
  tt.equal(sent.status, 201)
  const inbox = await api.get(`/messages/${bob.registrationId}`, { token: bob.token })
  tt.equal(inbox.status, 200)
  tt.equal(inbox.body.length, 1)
  const del = await api.delete(`/messages/${bob.registrationId}/`, [inbox.body[0].id, 999], { token: bob.token })
  tt.same(del.body[0], 'message_deleted')
  tt.equal(del.body[1].code, 'non-existant_message')
})
