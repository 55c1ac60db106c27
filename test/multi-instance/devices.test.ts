import t from 'tap'
import { PASSWORD, deviceBody } from '../helper.js'
import { openSocket } from '../message-socket.js'
import { account, call, needsCluster, openOn, pair } from './cluster.js'

// Several devices of one account spread over instances: linking through the provisioning relay,
// and news of added and removed devices, reach whichever instance holds the socket.

const provisioningUrl = (address: string) => `${address.replace(/^http/, 'ws')}/v2/provisioning/websocket/`

t.test(
  'a linking message PUT through A reaches the provisioning socket on B, only within the account',
  needsCluster,
  async (tt) => {
    const [a, b] = await pair(tt)
    const alice = await account(tt, a, 'alice')
    const mallory = await account(tt, a, 'mallory')
    // The new device logs in on B without a device of its own yet, and waits there.
    const login = await call(tt, b, 'POST', '/auth/login/', { email: alice.email, password: PASSWORD })
    const waiting = openSocket(tt, provisioningUrl(b.address), {
      token: login.body.auth_token,
      protocols: ['signal.provisioning.v1'],
    })
    tt.equal(await waiting.refused, undefined, 'the socket opened on B')
    const { address } = await waiting.next('provisioning_address')
    tt.match(address, /^[A-Za-z0-9_-]{22,}$/, 'a random address of at least 128 bits')

    const sealed = Buffer.from('sealed identity key pair').toString('base64')
    const stranger = await call(tt, a, 'PUT', `/v2/provisioning/${address}/`, { body: sealed }, mallory.token)
    tt.same([stranger.status, stranger.body.code], [404, 'no_provisioning_socket'], "another account's PUT is refused")
    const unknown = await call(tt, a, 'PUT', `/v2/provisioning/${'A'.repeat(22)}/`, { body: sealed }, mallory.token)
    tt.same(unknown.body, stranger.body, 'and reads exactly as an address that does not exist')

    const sent = await call(tt, a, 'PUT', `/v2/provisioning/${address}/`, { body: sealed }, alice.token)
    tt.equal(sent.status, 204, 'delivered through A')
    tt.same(await waiting.next('provisioning_message'), { type: 'provisioning_message', body: sealed }, 'B sent it')
    tt.equal((await waiting.closed).code, 1000, 'and closed the socket')
    const again = await call(tt, a, 'PUT', `/v2/provisioning/${address}/`, { body: sealed }, alice.token)
    tt.equal(again.status, 404, 'an address takes one message')
  },
)

t.test(
  'a device added on A is news to the socket on B; a device removed on A closes its socket on B',
  needsCluster,
  async (tt) => {
    const [a, b] = await pair(tt)
    const alice = await account(tt, a, 'alice')
    const firstOnB = await openOn(tt, b, alice)
    await firstOnB.backlog()

    const added = await call(
      tt,
      a,
      'POST',
      '/v2/devices/',
      deviceBody(alice.registrationId + 1000, `${alice.email}.2`, 1),
      alice.token,
    )
    tt.same([added.status, added.body.deviceId], [201, 2], 'device 2 added through A')
    tt.same(await firstOnB.next('devices_changed'), { type: 'devices_changed' }, 'B told device 1')

    const secondOnB = await openOn(tt, b, {
      ...alice,
      registrationId: alice.registrationId + 1000,
      token: added.body.auth_token,
    })
    await secondOnB.backlog()
    const removed = await call(tt, a, 'DELETE', '/v2/devices/2/', { currentPassword: PASSWORD }, alice.token)
    tt.equal(removed.status, 204, 'device 2 removed through A')
    tt.equal((await secondOnB.closed).code, 4404, "B closed device 2's socket")
    tt.same(await firstOnB.next('devices_changed'), { type: 'devices_changed' }, 'and told device 1')
    const gone = await call(tt, b, 'GET', '/v2/devices/', undefined, added.body.auth_token)
    tt.equal(gone.status, 401, "device 2's token is dead on B too")
  },
)
