// Multi-device accounts end to end with the official @signalapp/libsignal-client over real HTTP and
// WebSockets: account A has two devices that share one identity key, handed to the second through
// the provisioning relay sealed by the client; account B has three devices with their own keys.
// Every device sends to every device of the other account and syncs its own other devices (PQXDH
// sessions from `GET /v2/keys/`, `PUT /v2/messages/`), and every message is decrypted by its device
// at the libsignal address built from the deviceIds the server assigned. Then B removes a device
// and adds one, and A's send with its old device list shows 409 mismatched_devices and the
// client's recovery; a wrong registration ID shows 410 stale_devices and that recovery.
import t, { type Test } from 'tap'
import { CiphertextMessageType, IdentityKeyPair } from '@signalapp/libsignal-client'
import { PASSWORD } from '../helper.js'
import { connect, socketUrl, type TestSocket } from '../message-socket.js'
import { startSmtp } from '../smtp.js'
import {
  addDevice,
  addressOf,
  b64,
  type Device,
  freshRegistrationId,
  identityFromPlaintext,
  identityPlaintext,
  login,
  open,
  provisioningKeyPair,
  type Read,
  receive,
  receiveOverSocket,
  registerFirstDevice,
  seal,
  send,
} from './multi-device-client.js'
import { account, startServer } from './server.js'

const smtp = await startSmtp()
t.teardown(() => smtp.close())
// build() turns THROTTLE_PREKEYBUNDLE off; a real limit well above what the test claims keeps the
// counting of `GET /v2/keys/` (one per request) on the path, as in production (default 100/day).
const { sdk, address: baseUrl } = await startServer(t, {
  emailHost: '127.0.0.1',
  emailPort: smtp.port,
  throttlePrekeybundle: '1000/day',
})

/** The next frame of `type` on a socket, for the frames test/message-socket.ts does not type. */
const nextFrame = <F>(socket: TestSocket, type: string) =>
  (socket.next as (type: string) => Promise<unknown>).call(socket, type) as Promise<F>

/** Adds a device with `add` and asserts the account was mailed that a new device was added, naming it. */
async function withMail(tt: Test, email: string, label: string, add: () => Promise<Device>) {
  const before = smtp.mails.length
  const device = await add()
  const mail = await smtp.next(email, before)
  tt.match(mail.text, /a new device was added/, `the account is mailed about ${label}`)
  tt.match(mail.text, new RegExp(`named "${label}"`), 'naming the device')
  return device
}

async function deviceList(tt: Test, device: Device) {
  const res = await device.api.GET('/v2/devices/')
  tt.equal(res.response.status, 200)
  return res.data!.devices.map(({ deviceId, registrationId, name }) => ({ deviceId, registrationId, name }))
}

let aEmail: string
let bEmail: string
let a1: Device, a2: Device, b1: Device, b2: Device, b3: Device, b4: Device
const accountOf = (email: string) => (email === aEmail ? [a1, a2] : [b1, b2, b3, b4]).filter(Boolean)
const peerOf = (d: Device) => (d.email === aEmail ? bEmail : aEmail)

/** What each device should read next, in the order it was sent. */
const inbox = new Map<Device, Read[]>()

/** Sends through the send loop and records what each recipient device should read; answers the attempts. */
async function sendAndExpect(tt: Test, from: Device, email: string, text: string) {
  const { attempts, reads, stored } = await send(tt, from, email, text)
  tt.same(
    stored.map((s) => s.deviceId),
    [...reads.keys()],
    `${from.label} -> ${email}: one message stored per device sent to`,
  )
  for (const [deviceId, read] of reads) {
    const to = accountOf(email).find((d) => d.deviceId === deviceId)
    if (!to) {
      tt.fail(`${from.label} sent to ${email}.${deviceId}, which the test does not know`)
      continue
    }
    inbox.set(to, [...(inbox.get(to) ?? []), read])
  }
  return { attempts, reads }
}

/** Each of `devices` reads its queue (A2 and B3 over the message socket) and gets exactly what was sent to it. */
async function receiveAll(tt: Test, devices: Device[]) {
  for (const d of devices) {
    const read = d === a2 || d === b3 ? await receiveOverSocket(tt, baseUrl, d) : await receive(tt, d)
    tt.same(read, inbox.get(d) ?? [], `${d.label} decrypts exactly what was sent to it, with its sender`)
    inbox.delete(d)
  }
}

await t.test('1. Account A: device 1, then device 2 linked with the same identity key via provisioning', async (tt) => {
  const { email, api } = await account(sdk, 'a')
  aEmail = email
  const identity = IdentityKeyPair.generate()
  a1 = await registerFirstDevice(tt, sdk, email, api, 'A1', identity)

  // The new device has no device yet: any token of the account opens the provisioning socket.
  const a2Token = await login(tt, sdk, email)
  const socket = await connect(tt, `${baseUrl.replace(/^http/, 'ws')}/v2/provisioning/websocket/`, {
    token: a2Token,
    protocols: ['signal.provisioning.v1'],
  })
  tt.equal(socket.ws.protocol, 'signal.provisioning.v1')
  const { address } = await nextFrame<{ address: string }>(socket, 'provisioning_address')
  tt.match(address, /^[A-Za-z0-9_-]{22}$/, 'a 128-bit base64url address')
  // The address frame carries no key: the new device shows its public key with the address, as a QR code.
  const keys = provisioningKeyPair()
  const shown = { address, publicKey: keys.publicKey }

  const sealed = seal(shown.publicKey, shown.address, identityPlaintext(a1.identity))
  const put = await a1.api.PUT('/v2/provisioning/{address}/', { params: { path: { address } }, body: { body: sealed } })
  tt.equal(put.response.status, 204, 'A1 hands the sealed identity key to the socket')
  const { body } = await nextFrame<{ body: string }>(socket, 'provisioning_message')
  tt.equal(body, sealed, 'the server relays the sealed bytes unchanged')
  tt.equal((await socket.closed).code, 1000, 'and then closes the provisioning socket')
  const again = await a1.api.PUT('/v2/provisioning/{address}/', {
    params: { path: { address } },
    body: { body: sealed },
  })
  tt.same([again.response.status, again.error?.code], [404, 'no_provisioning_socket'], 'an address serves once')

  tt.throws(() => open(keys, 'another-address', body), 'the sealed body opens only for its address')
  const wrongKeys = provisioningKeyPair()
  tt.throws(() => open(wrongKeys, address, body), 'and only with the new device key')
  const shared = identityFromPlaintext(open(keys, address, body))
  tt.ok(shared.publicKey.equals(identity.publicKey), 'A2 holds the identity public key of A1')
  tt.equal(b64(shared.privateKey.serialize()), b64(identity.privateKey.serialize()), 'and its private key')

  a2 = await withMail(tt, email, 'A2', () =>
    addDevice(tt, sdk, email, sdk(a2Token), 'A2', shared, [a1.registrationId], 2),
  )
  tt.same(await deviceList(tt, a2), [
    { deviceId: 1, registrationId: a1.registrationId, name: null },
    { deviceId: 2, registrationId: a2.registrationId, name: 'A2' },
  ])
})

await t.test('2. Account B: three devices, each with its own identity key', async (tt) => {
  const { email, api } = await account(sdk, 'b')
  bEmail = email
  b1 = await registerFirstDevice(tt, sdk, email, api, 'B1', IdentityKeyPair.generate())
  // Any token of the account adds a device: B1's bound one, then the account's unbound one.
  b2 = await withMail(tt, email, 'B2', () =>
    addDevice(tt, sdk, email, b1.api, 'B2', IdentityKeyPair.generate(), [b1.registrationId], 2),
  )
  const taken = [b1.registrationId, b2.registrationId]
  b3 = await withMail(tt, email, 'B3', () => addDevice(tt, sdk, email, api, 'B3', IdentityKeyPair.generate(), taken, 3))
  tt.same(await deviceList(tt, b3), [
    { deviceId: 1, registrationId: b1.registrationId, name: null },
    { deviceId: 2, registrationId: b2.registrationId, name: 'B2' },
    { deviceId: 3, registrationId: b3.registrationId, name: 'B3' },
  ])
})

const senders = () => [a1, a2, b1, b2, b3]

await t.test('3. Every device sends to every device of the other account and syncs its own others', async (tt) => {
  for (const round of [1, 2]) {
    for (const d of senders()) {
      const toPeer = await sendAndExpect(tt, d, peerOf(d), `round ${round}: ${d.label} to the other account ✉️`)
      const sync = await sendAndExpect(tt, d, d.email, `round ${round}: ${d.label} syncs its own devices 🔁`)
      tt.same(
        [...toPeer.attempts, ...sync.attempts].map((a) => a.status),
        [200, 200],
        `round ${round}: ${d.label}'s sends go through at once with the device lists of GET /v2/keys/*`,
      )
      const type = round === 1 ? CiphertextMessageType.PreKey : CiphertextMessageType.Whisper
      tt.ok(
        [...toPeer.reads.values(), ...sync.reads.values()].every((r) => r.type === type),
        `round ${round}: ${d.label} sends ${round === 1 ? 'PreKey messages (new sessions)' : 'Whisper messages'}`,
      )
    }
    await receiveAll(tt, senders())
  }

  // The keys every device fetched: one `*` per account, the deviceIds and keys each device registered.
  const bundle = (d: Device) => ({
    deviceId: d.deviceId,
    registrationId: d.registrationId,
    address: `${d.email}.${d.deviceId}`,
    identityKey: b64(d.identity.publicKey.serialize()),
  })
  const pick = ({ deviceId, registrationId, address, identityKey }: (typeof a1.fetched)[0]['devices'][0]) => ({
    deviceId,
    registrationId,
    address,
    identityKey,
  })
  for (const d of senders()) {
    tt.same(
      d.fetched.map((f) => [f.email, f.which, f.devices.map(pick)]),
      [
        [peerOf(d), '*', accountOf(peerOf(d)).map(bundle)],
        // `*` on one's own account leaves out the calling device.
        [
          d.email,
          '*',
          accountOf(d.email)
            .filter((own) => own !== d)
            .map(bundle),
        ],
      ],
      `${d.label} fetched each account's keys once, with the server's deviceIds`,
    )
    tt.ok(
      d.fetched.flatMap((f) => f.devices).every((b) => b.pqPreKey && !b.pqPreKey.lastResort),
      `${d.label} got a one-time Kyber prekey from every device`,
    )
  }
  tt.equal(bundle(a1).identityKey, bundle(a2).identityKey, "A's devices share one identity key")
  tt.equal(new Set([b1, b2, b3].map((d) => bundle(d).identityKey)).size, 3, "B's devices each have their own")
})

await t.test('4. B removes device 3 and adds device 4; A sends with its old list: 409, and recovers', async (tt) => {
  const b1Socket = await connect(tt, socketUrl(baseUrl, b1.registrationId), { token: b1.token })
  const b3Socket = await connect(tt, socketUrl(baseUrl, b3.registrationId), { token: b3.token })
  tt.same(await b1Socket.backlog(), [])
  tt.same(await b3Socket.backlog(), [])

  const removed = await b1.api.DELETE('/v2/devices/{deviceId}/', {
    params: { path: { deviceId: 3 } },
    body: { currentPassword: PASSWORD },
  })
  tt.equal(removed.response.status, 204, "B1 removes B3 with the account's password")
  tt.equal((await b3Socket.closed).code, 4404, "B3's socket closes with 4404")
  tt.same(await nextFrame(b1Socket, 'devices_changed'), { type: 'devices_changed' }, 'B1 hears of the removal')
  tt.equal((await b3.api.GET('/v2/devices/')).response.status, 401, "B3's bound token ended with it")

  const taken = [b1.registrationId, b2.registrationId]
  b4 = await withMail(tt, bEmail, 'B4', () =>
    addDevice(tt, sdk, bEmail, b2.api, 'B4', IdentityKeyPair.generate(), taken, 4),
  )
  tt.same(await nextFrame(b1Socket, 'devices_changed'), { type: 'devices_changed' }, 'B1 hears of the new device')
  b1Socket.ws.close(1000)
  await b1Socket.closed
  tt.same(
    (await deviceList(tt, b4)).map((d) => d.deviceId),
    [1, 2, 4],
    'device 4: an id is never reused',
  )

  for (const a of [a1, a2]) {
    tt.same([...a.deviceLists.get(bEmail)!.keys()], [1, 2, 3], `${a.label} still knows B as devices 1, 2, 3`)
    const { attempts, reads } = await sendAndExpect(tt, a, bEmail, `${a.label}: after B changed its devices`)
    tt.same(
      attempts.map((x) => x.status),
      [409, 200],
      `${a.label}: 409, then 200 after the recovery`,
    )
    tt.match(
      attempts[0].body,
      { code: 'mismatched_devices', message: String, missingDevices: [4], extraDevices: [3] },
      `${a.label}'s first send: device 4 missing, device 3 extra`,
    )
    tt.same(Object.keys(attempts[0].body as object).sort(), ['code', 'extraDevices', 'message', 'missingDevices'])
    const last = a.fetched.at(-1)!
    tt.same(
      [last.email, last.which, last.devices.map((d) => [d.deviceId, d.registrationId, d.identityKey])],
      [bEmail, '4', [[4, b4.registrationId, b64(b4.identity.publicKey.serialize())]]],
      `${a.label} fetched the keys of device 4 only`,
    )
    tt.same(
      [...a.deviceLists.get(bEmail)!.keys()].sort((x, y) => x - y),
      [1, 2, 4],
      `${a.label} dropped 3 and added 4`,
    )
    const archived = await a.stores.session.getSession(addressOf(bEmail, 3))
    tt.notOk(archived?.hasCurrentState(), `${a.label} archived its session with the removed device`)
    tt.same(
      [...reads].map(([id, r]) => [id, r.type]),
      [
        [1, CiphertextMessageType.Whisper],
        [2, CiphertextMessageType.Whisper],
        [4, CiphertextMessageType.PreKey],
      ],
      `${a.label}'s resend: Whisper on the old sessions, a PreKey message for the new device`,
    )
  }

  // B1 syncs its own devices with its old list too (2, 3): the same 409, and the same recovery.
  const toA = await sendAndExpect(tt, b1, aEmail, 'B1: hello again')
  tt.same(
    toA.attempts.map((x) => x.status),
    [200],
    "A's devices did not change",
  )
  const sync = await sendAndExpect(tt, b1, bEmail, 'B1: sync after the change')
  tt.same(
    sync.attempts.map((x) => x.status),
    [409, 200],
    "B1's sync: 409, then 200 after the recovery",
  )
  tt.match(
    sync.attempts[0].body,
    { code: 'mismatched_devices', missingDevices: [4], extraDevices: [3] },
    'B1 missed its own new device 4 and still had 3',
  )
  tt.same([...sync.reads.keys()], [2, 4], 'the sync goes to B2 and B4')

  // The new device joins the conversation: it fetches both accounts' keys and sends.
  for (const email of [aEmail, bEmail]) {
    const { attempts } = await sendAndExpect(tt, b4, email, `B4 to ${email === aEmail ? 'A' : 'its own'}: hi 👋`)
    tt.same(
      attempts.map((x) => x.status),
      [200],
      'B4 sends at once with the lists it just fetched',
    )
  }
  // Each device reads each message once: nothing of the refused sends was stored.
  await receiveAll(tt, [a1, a2, b1, b2, b4])
})

await t.test('5. A sends with a stale registration ID for device 2 of B: 410, and recovers', async (tt) => {
  // Simulated: the server never gives a device a new registration ID under the same deviceId (a
  // re-registration gets a new deviceId), so A1 believes B2 has another one.
  const list = a1.deviceLists.get(bEmail)!
  const stale = freshRegistrationId([b1.registrationId, b2.registrationId, b4.registrationId])
  list.set(2, stale)
  const fetchedBefore = a1.fetched.length
  const { attempts, reads } = await sendAndExpect(tt, a1, bEmail, 'A1: with a stale registration ID')
  tt.same(
    attempts.map((x) => x.status),
    [410, 200],
    'A1: 410, then 200 after the recovery',
  )
  tt.match(attempts[0].body, { code: 'stale_devices', staleDevices: [2] }, 'device 2 is stale')
  tt.same(Object.keys(attempts[0].body as object).sort(), ['code', 'message', 'staleDevices'])
  tt.same(
    a1.fetched.slice(fetchedBefore).map((f) => [f.which, f.devices.map((d) => [d.deviceId, d.registrationId])]),
    [['2', [[2, b2.registrationId]]]],
    "A1 fetched device 2's keys again, and nothing else",
  )
  tt.equal(list.get(2), b2.registrationId, 'and knows its registration ID now')
  tt.same(
    [...reads].map(([id, r]) => [id, r.type]),
    [
      [1, CiphertextMessageType.Whisper],
      [2, CiphertextMessageType.PreKey],
      [4, CiphertextMessageType.Whisper],
    ],
    'the resend: a new session (PreKey) for device 2 only',
  )
  await receiveAll(tt, [b1, b2, b4])

  // B2 answers on the new session, to the account and device the message named.
  const reply = await sendAndExpect(tt, b2, aEmail, 'B2: got it')
  tt.same(
    reply.attempts.map((x) => x.status),
    [200],
    'B2 replies at once',
  )
  tt.equal(reply.reads.get(1)?.type, CiphertextMessageType.Whisper, 'B2 answers A1 on the session A1 started anew')
  await receiveAll(tt, [a1, a2])
  tt.same([...inbox.keys()], [], 'every message sent was read')
})
