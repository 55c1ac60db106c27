import t from 'tap'
import { diff, snapshot } from '../security/db-snapshot.js'
import { deviceBody, signUp, userWithDevice } from '../helper.js'
import { build } from '../helper.js'
import { send, signatureHeader, signingKeyPair } from '../signing.js'

// A device that registered a signingKey and sends with a token bound to it (PUT /v2/messages/):
// the signature is checked against that device's key, not another device's of the account.

t.test('a signed multi-device send goes through with its own device key, and only with it', async (tt) => {
  const { app, api } = await build(tt)
  const bob = await userWithDevice(api)
  const alice = await signUp(api)
  const first = signingKeyPair()
  const second = signingKeyPair()
  const one = { ...deviceBody(7101, `${alice.email}.1`), signingKey: first.publicKey }
  tt.equal((await api.post('/device/', one, { token: alice.token })).status, 201)
  const two = { ...deviceBody(7102, `${alice.email}.2`), signingKey: second.publicKey }
  const added = await api.post('/v2/devices/', two, { token: alice.token })
  tt.equal(added.status, 201, "alice's second device, with its own signing key")
  const token = added.body.auth_token as string

  const send2 = {
    method: 'PUT',
    url: `/v2/messages/${encodeURIComponent(bob.email)}/`,
    body: JSON.stringify({ messages: [{ deviceId: 1, registrationId: bob.registrationId, content: 'signed' }] }),
  }
  const before = await snapshot(app)
  const byTheOther = await send(
    api,
    token,
    send2,
    signatureHeader(first.privateKey, 1, send2.method, send2.url, send2.body),
  )
  tt.same(
    [byTheOther.status, byTheOther.body.code],
    [401, 'invalid_request_signature'],
    "device 1's key does not sign for device 2",
  )
  const unsigned = await send(api, token, send2)
  tt.same([unsigned.status, unsigned.body.code], [401, 'invalid_request_signature'], 'nor does no signature')
  tt.same(diff(before, await snapshot(app)), [], 'nothing stored by the refusals')

  const signed = await send(
    api,
    token,
    send2,
    signatureHeader(second.privateKey, 1, send2.method, send2.url, send2.body),
  )
  tt.equal(signed.status, 200, "device 2's own key does")
  tt.same(
    signed.body.messages.map((m: { deviceId: number }) => m.deviceId),
    [1],
    "stored for bob's device",
  )
  const replay = await send(
    api,
    token,
    send2,
    signatureHeader(second.privateKey, 1, send2.method, send2.url, send2.body),
  )
  tt.same([replay.status, replay.body.code], [401, 'invalid_request_signature'], 'and its counter cannot be used twice')
})
