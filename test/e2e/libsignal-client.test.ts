// Two (and more) clients of the official @signalapp/libsignal-client talk through the real server
// over HTTP with the generated SDK: registration, PQXDH session set-up from claimed bundles, a long
// interleaved conversation, one-time prekeys running out, key rotation and the key check.
import { randomBytes, randomInt } from 'node:crypto'
import t from 'tap'
import {
  CiphertextMessageType,
  IdentityKeyPair,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SignalMessage,
  SignedPreKeyRecord,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client'
import { keyDigest, type SignalServerClient } from '../../sdk/index.js'
import { account, startServer } from './server.js'
import {
  MemoryIdentityStore,
  MemoryKyberPreKeyStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
} from './libsignal-client-stores.js'

type T = Pick<typeof t, 'equal' | 'same' | 'ok' | 'notOk'>
type Sdk = (token?: string) => SignalServerClient

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64')
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

const ecKey = (r: PreKeyRecord) => ({ keyId: r.id(), publicKey: b64(r.publicKey().serialize()) })
const signedKey = (r: SignedPreKeyRecord | KyberPreKeyRecord) => ({
  keyId: r.id(),
  publicKey: b64(r.publicKey().serialize()),
  signature: b64(r.signature()),
})

function newSignedPreKey(identity: PrivateKey, id: number) {
  const key = PrivateKey.generate()
  return SignedPreKeyRecord.new(id, Date.now(), key.getPublicKey(), key, identity.sign(key.getPublicKey().serialize()))
}

function newKyberPreKey(identity: PrivateKey, id: number) {
  const pair = KEMKeyPair.generate()
  return KyberPreKeyRecord.new(id, Date.now(), pair, identity.sign(pair.getPublicKey().serialize()))
}

/** `name.deviceId`, the form every device registers its address in. */
function parseAddress(address: string) {
  const match = /^(.+)\.(\d+)$/.exec(address)
  if (!match) throw new Error(`not a name.deviceId address: ${address}`)
  return ProtocolAddress.new(match[1], Number(match[2]))
}

/**
 * Signs up and registers a device with freshly generated, real keys: EC prekeys 1..preKeys,
 * signed prekey 1, Kyber prekeys 101.. and last-resort Kyber prekey 199. Every private part stays
 * in the client's stores.
 */
async function newClient(tt: T, clientOf: Sdk, name: string, preKeys = 1, pqPreKeys = 1) {
  const { email, api } = await account(clientOf, name)
  const identity = IdentityKeyPair.generate()
  const registrationId = randomInt(1, 16381) // libsignal's 14-bit range
  const stores = {
    session: new MemorySessionStore(),
    identity: new MemoryIdentityStore(identity.privateKey, registrationId),
    preKey: new MemoryPreKeyStore(),
    signed: new MemorySignedPreKeyStore(),
    kyber: new MemoryKyberPreKeyStore(),
  }
  const ec = range(1, preKeys).map((id) => {
    const key = PrivateKey.generate()
    return PreKeyRecord.new(id, key.getPublicKey(), key)
  })
  const signed = newSignedPreKey(identity.privateKey, 1)
  const pq = range(101, pqPreKeys).map((id) => newKyberPreKey(identity.privateKey, id))
  const lastResort = newKyberPreKey(identity.privateKey, 199)
  for (const r of ec) await stores.preKey.savePreKey(r.id(), r)
  await stores.signed.saveSignedPreKey(signed.id(), signed)
  for (const r of pq) await stores.kyber.saveKyberPreKey(r.id(), r)
  stores.kyber.saveLastResort(lastResort)

  const registered = {
    address: `${email}.1`,
    identityKey: b64(identity.publicKey.serialize()),
    registrationId,
    preKeys: ec.map(ecKey),
    signedPreKey: signedKey(signed),
    pqPreKeys: pq.map(signedKey),
    pqLastResortPreKey: signedKey(lastResort),
  }
  const res = await api.POST('/device/', { body: registered })
  tt.equal(res.response.status, 201, `${name} registers a device`)
  // The one edited assertion of the single-device suite: issue 13 has POST /device/ also answer
  // the device's number (1 for an account's first device), beside the seed's code and message.
  tt.same(res.data, { code: 'device_created', message: 'Device created.', deviceId: 1 })
  return {
    name,
    email,
    api,
    identity,
    registrationId,
    address: parseAddress(registered.address),
    stores,
    registered,
    own: { params: { path: { registrationId } } },
  }
}
type Client = Awaited<ReturnType<typeof newClient>>

/** Claims `peer`'s bundle, checks its signatures as a client must, and starts a session from it. */
async function startSession(tt: T, c: Client, peer: Client) {
  const res = await c.api.GET('/prekeybundle/{recipientEmail}/{registrationId}/', {
    params: { path: { recipientEmail: peer.email, registrationId: c.registrationId } },
  })
  tt.equal(res.response.status, 200, `${c.name} claims ${peer.name}'s bundle`)
  const json = res.data!
  const identity = PublicKey.deserialize(bytes(json.identityKey))
  const signedPub = PublicKey.deserialize(bytes(json.signedPreKey.publicKey))
  tt.ok(
    identity.verify(signedPub.serialize(), bytes(json.signedPreKey.signature)),
    'the signed prekey signature verifies with PublicKey.verify',
  )
  tt.ok(json.pqPreKey, 'the bundle carries a Kyber prekey, which PQXDH requires')
  const kyberPub = KEMPublicKey.deserialize(bytes(json.pqPreKey!.publicKey))
  tt.ok(
    identity.verify(kyberPub.serialize(), bytes(json.pqPreKey!.signature)),
    'the Kyber prekey signature verifies with PublicKey.verify',
  )
  tt.notOk(
    identity.verify(kyberPub.serialize(), bytes(json.signedPreKey.signature)),
    'and a signature over other bytes does not',
  )

  const remote = parseAddress(json.address)
  const bundle = PreKeyBundle.new(
    json.registrationId,
    remote.deviceId(),
    json.preKey?.keyId ?? null,
    json.preKey ? PublicKey.deserialize(bytes(json.preKey.publicKey)) : null,
    json.signedPreKey.keyId,
    signedPub,
    bytes(json.signedPreKey.signature),
    identity,
    json.pqPreKey!.keyId,
    kyberPub,
    bytes(json.pqPreKey!.signature),
  )
  await processPreKeyBundle(bundle, remote, c.address, c.stores.session, c.stores.identity)
  return json
}

/** Encrypts for `peer` on the existing session and queues it; returns what the peer should read. */
async function send(tt: T, c: Client, peer: Client, text: string) {
  const session = await c.stores.session.getSession(peer.address)
  const ciphertext = await signalEncrypt(
    new TextEncoder().encode(text),
    peer.address,
    c.address,
    c.stores.session,
    c.stores.identity,
  )
  const message = JSON.stringify({
    type: ciphertext.type(),
    body: b64(ciphertext.serialize()),
    registrationId: session!.remoteRegistrationId(),
  })
  const res = await c.api.POST('/messages/{registrationId}/', { ...c.own, body: { recipient: peer.email, message } })
  tt.equal(res.response.status, 201, `${c.name} -> ${peer.name} queued`)
  return { from: c.registered.address, senderRegistrationId: c.registrationId, type: ciphertext.type(), text }
}

/** Fetches, decrypts and deletes everything queued for `c`, and checks the queue is empty after. */
async function receive(tt: T, c: Client) {
  const res = await c.api.GET('/messages/{registrationId}/', c.own)
  tt.equal(res.response.status, 200)
  const read = []
  for (const m of res.data!) {
    const { type, body } = JSON.parse(m.content) as { type: number; body: string }
    const sender = parseAddress(m.senderAddress)
    const { session, identity, preKey, signed, kyber } = c.stores
    const plain =
      type === CiphertextMessageType.PreKey
        ? await signalDecryptPreKey(
            PreKeySignalMessage.deserialize(bytes(body)),
            sender,
            c.address,
            session,
            identity,
            preKey,
            signed,
            kyber,
          )
        : await signalDecrypt(SignalMessage.deserialize(bytes(body)), sender, c.address, session, identity)
    read.push({
      from: m.senderAddress,
      senderRegistrationId: m.senderRegistrationId,
      type,
      text: new TextDecoder('utf-8', { fatal: true }).decode(plain),
    })
  }
  if (read.length) {
    const ids = res.data!.map((m) => m.id)
    const deleted = await c.api.DELETE('/messages/{registrationId}/', { ...c.own, body: ids })
    tt.same(
      deleted.data,
      ids.map(() => 'message_deleted'),
      `${c.name} deletes what it read`,
    )
  }
  tt.same((await c.api.GET('/messages/{registrationId}/', c.own)).data, [], `${c.name}'s queue is empty`)
  return read
}

const preKeyCount = async (c: Client) => (await c.api.GET('/prekeys/{registrationId}/', c.own)).data

async function checkKeys(c: Client, signed: SignedPreKeyRecord, lastResort: KyberPreKeyRecord) {
  const digest = await keyDigest(c.registered.identityKey, signedKey(signed), signedKey(lastResort))
  const res = await c.api.POST('/keys/check/{registrationId}/', { ...c.own, body: { digest } })
  return { status: res.response.status, code: (res.data ?? res.error)?.code }
}

const samples = [
  'héllo wörld — ünïcödé ✓',
  '👋🏽 emoji, مرحبا, 你好, Привет, שלום, 🇺🇳',
  randomBytes(7680).toString('base64'), // ~10 KB
  '🔐 ключ 鍵 '.repeat(600), // ~10 KB of multi-byte UTF-8
  'plain ascii',
]
const plaintext = (name: string, i: number) => `${name} #${i}: ${samples[i % samples.length]}`

const { sdk } = await startServer(t)
let alice: Client, bob: Client, frank: Client
let fromFrank: Awaited<ReturnType<typeof send>>
const aliceKeys = { signed: [] as SignedPreKeyRecord[], lastResort: [] as KyberPreKeyRecord[] }

await t.test('1. Alice and Bob register devices with real libsignal keys', async (tt) => {
  alice = await newClient(tt, sdk, 'alice', 3, 3)
  bob = await newClient(tt, sdk, 'bob', 2, 2)
  tt.same(await preKeyCount(alice), { count: 3, pqCount: 3 })
  aliceKeys.signed.push(await alice.stores.signed.getSignedPreKey(1))
  aliceKeys.lastResort.push(await alice.stores.kyber.getKyberPreKey(199))
  tt.same(await checkKeys(alice, aliceKeys.signed[0], aliceKeys.lastResort[0]), { status: 200, code: 'keys_match' })
})

await t.test("2. Bob starts a PQXDH session from Alice's bundle; 20+ messages each way, interleaved", async (tt) => {
  const bundle = await startSession(tt, bob, alice)
  const { preKeys, pqPreKeys, signedPreKey, identityKey, registrationId, address } = alice.registered
  tt.same(bundle, {
    address,
    identityKey,
    registrationId,
    signedPreKey,
    preKey: preKeys[0],
    pqPreKey: { ...pqPreKeys[0], lastResort: false },
  })

  // Until Alice answers, every message Bob sends is a PreKey message carrying the session set-up.
  const opening = []
  for (const i of [0, 1, 2]) opening.push(await send(tt, bob, alice, plaintext('bob', i)))
  tt.same(
    opening.map((m) => m.type),
    [3, 3, 3],
    'PreKey messages until Alice replies',
  )
  tt.same(await receive(tt, alice), opening)
  tt.same([...alice.stores.preKey.records.keys()], [2, 3], 'libsignal removed the used one-time prekey')
  tt.same(
    [...alice.stores.kyber.records.keys()].sort(),
    [102, 103, 199],
    'and the used one-time Kyber prekey, keeping the last-resort one',
  )

  let fromAlice = 0
  let fromBob = 3
  for (let round = 0; fromAlice < 20 || fromBob < 20; round++) {
    const aliceBatch = []
    for (let k = 0; k <= round % 3; k++) aliceBatch.push(await send(tt, alice, bob, plaintext('alice', fromAlice++)))
    tt.same(await receive(tt, bob), aliceBatch, `round ${round}: Bob reads Alice's ${aliceBatch.length}`)
    const bobBatch = []
    for (let k = 0; k <= (round + 1) % 3; k++) bobBatch.push(await send(tt, bob, alice, plaintext('bob', fromBob++)))
    tt.same(await receive(tt, alice), bobBatch, `round ${round}: Alice reads Bob's ${bobBatch.length}`)
    tt.ok(
      [...aliceBatch, ...bobBatch].every((m) => m.type === CiphertextMessageType.Whisper),
      'plain Whisper messages once the session is confirmed',
    )
  }
  tt.ok(fromAlice >= 20 && fromBob >= 20, `${fromAlice} messages from Alice, ${fromBob} from Bob`)
})

await t.test("3. Alice's one-time prekeys run out; the last-resort Kyber prekey still starts sessions", async (tt) => {
  const [carol, dave, erin] = [
    await newClient(tt, sdk, 'carol'),
    await newClient(tt, sdk, 'dave'),
    await newClient(tt, sdk, 'erin'),
  ]
  frank = await newClient(tt, sdk, 'frank')
  const { preKeys, pqPreKeys, pqLastResortPreKey } = alice.registered
  const carolBundle = await startSession(tt, carol, alice)
  const daveBundle = await startSession(tt, dave, alice)
  tt.same([carolBundle.preKey, carolBundle.pqPreKey], [preKeys[1], { ...pqPreKeys[1], lastResort: false }])
  tt.same([daveBundle.preKey, daveBundle.pqPreKey], [preKeys[2], { ...pqPreKeys[2], lastResort: false }])
  tt.same(await preKeyCount(alice), { count: 0, pqCount: 0 })

  const erinBundle = await startSession(tt, erin, alice)
  tt.notOk('preKey' in erinBundle, 'no one-time EC prekey left')
  tt.same(erinBundle.pqPreKey, { ...pqLastResortPreKey, lastResort: true })
  const sent = [
    await send(tt, carol, alice, 'from carol'),
    await send(tt, dave, alice, 'from dave ✉️'),
    await send(tt, erin, alice, 'from erin, on the last resort'),
  ]
  tt.same(await receive(tt, alice), sent)
  tt.same([...alice.stores.preKey.records.keys()], [], 'every one-time prekey was used once')
  tt.same([...alice.stores.kyber.records.keys()], [199], 'only the last-resort Kyber prekey is left, kept after use')

  const reply = await send(tt, alice, erin, 'hi erin 👋')
  tt.same(await receive(tt, erin), [reply])

  // Frank gets the same last-resort key; Alice reads him only after she has rotated her keys.
  const frankBundle = await startSession(tt, frank, alice)
  tt.same(frankBundle.pqPreKey, { ...pqLastResortPreKey, lastResort: true }, 'the last-resort key is handed out again')
  fromFrank = await send(tt, frank, alice, 'frank, sent before the rotation')
})

await t.test(
  '4. Alice rotates her signed prekey and Kyber prekeys; old sessions and in-flight messages survive',
  async (tt) => {
    const signed = newSignedPreKey(alice.identity.privateKey, 2)
    const pq = range(201, 3).map((id) => newKyberPreKey(alice.identity.privateKey, id))
    const lastResort = newKyberPreKey(alice.identity.privateKey, 299)
    const ec = range(4, 3).map((id) => {
      const key = PrivateKey.generate()
      return PreKeyRecord.new(id, key.getPublicKey(), key)
    })
    // The old signed and last-resort prekeys stay in the stores for messages already on their way.
    await alice.stores.signed.saveSignedPreKey(2, signed)
    for (const r of pq) await alice.stores.kyber.saveKyberPreKey(r.id(), r)
    alice.stores.kyber.saveLastResort(lastResort)
    for (const r of ec) await alice.stores.preKey.savePreKey(r.id(), r)
    aliceKeys.signed.push(signed)
    aliceKeys.lastResort.push(lastResort)

    const rotated = await alice.api.POST('/signedprekey/{registrationId}/', { ...alice.own, body: signedKey(signed) })
    tt.same([rotated.response.status, rotated.data?.code], [200, 'signed_prekey_stored'])
    const uploaded = await alice.api.POST('/pqprekeys/{registrationId}/', {
      ...alice.own,
      body: { pqPreKeys: pq.map(signedKey), pqLastResortPreKey: signedKey(lastResort) },
    })
    tt.same([uploaded.response.status, uploaded.data?.code], [200, 'pq_prekeys_stored'])
    const refilled = await alice.api.POST('/prekeys/{registrationId}/', { ...alice.own, body: ec.map(ecKey) })
    tt.same([refilled.response.status, refilled.data?.code], [200, 'prekeys_stored'])
    tt.same(await preKeyCount(alice), { count: 3, pqCount: 3 })

    const grace = await newClient(tt, sdk, 'grace')
    const bundle = await startSession(tt, grace, alice)
    const { address, identityKey, registrationId } = alice.registered
    tt.same(bundle, {
      address,
      identityKey,
      registrationId,
      signedPreKey: signedKey(signed),
      preKey: ecKey(ec[0]),
      pqPreKey: { ...signedKey(pq[0]), lastResort: false },
    })
    const fromGrace = await send(tt, grace, alice, 'grace, after the rotation')
    tt.same(
      await receive(tt, alice),
      [fromFrank, fromGrace],
      'a message built on the old keys and one on the new both decrypt',
    )
    tt.same([...alice.stores.kyber.records.keys()].sort(), [199, 202, 203, 299])

    const toFrank = await send(tt, alice, frank, 'welcome frank')
    const toGrace = await send(tt, alice, grace, 'welcome grace')
    tt.same([await receive(tt, frank), await receive(tt, grace)], [[toFrank], [toGrace]])

    const fromBob = [
      await send(tt, bob, alice, 'bob, after the rotation'),
      await send(tt, bob, alice, plaintext('bob', 3)),
    ]
    tt.same(await receive(tt, alice), fromBob, "Bob's session survives the rotation")
    const toBob = await send(tt, alice, bob, 'alice, after the rotation 🔄')
    tt.same(await receive(tt, bob), [toBob])
    tt.ok([...fromBob, toBob].every((m) => m.type === CiphertextMessageType.Whisper))
  },
)

await t.test("5. checkKeys matches Alice's current keys and not the pre-rotation ones", async (tt) => {
  tt.same(await checkKeys(alice, aliceKeys.signed[1], aliceKeys.lastResort[1]), { status: 200, code: 'keys_match' })
  tt.same(await checkKeys(alice, aliceKeys.signed[0], aliceKeys.lastResort[0]), { status: 409, code: 'keys_mismatch' })
  tt.same(
    await checkKeys(alice, aliceKeys.signed[1], aliceKeys.lastResort[0]),
    { status: 409, code: 'keys_mismatch' },
    'a stale last-resort key alone is a mismatch',
  )
})
