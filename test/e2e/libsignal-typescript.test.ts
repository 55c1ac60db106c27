import t, { type Test } from 'tap'
import { keyDigest, type SignalServerClient } from '../../sdk/index.js'
import { MemoryStore } from './libsignal-typescript-store.js'
import { account, startServer } from './server.js'

// Clients of @privacyresearch/libsignal-protocol-typescript, the port of the library the seed's
// clients used, talking through the server with the generated SDK over real HTTP.

// Its asm.js curve installs process-wide uncaughtException/unhandledRejection handlers (one of
// them calls abort()) when first used; take them off again so a failure here reports as a failure.
const events = ['uncaughtException', 'unhandledRejection'] as const
const listeners = () => events.map((event) => process.listeners(event as 'warning') as unknown[])
const before = listeners()
const { KeyHelper, SessionBuilder, SessionCipher, SignalProtocolAddress } = await import(
  '@privacyresearch/libsignal-protocol-typescript'
)
await KeyHelper.generateIdentityKeyPair()
listeners().forEach((now, i) => {
  for (const listener of now)
    if (!before[i].includes(listener)) process.removeListener(events[i], listener as () => void)
})

const b64 = (b: ArrayBuffer) => Buffer.from(b).toString('base64')
const bytes = (s: string): ArrayBuffer => Uint8Array.from(Buffer.from(s, 'base64')).buffer

type Sdk = Parameters<typeof account>[0]

/** One client: an account, a device with real keys, and its protocol store. */
async function client(sdk: Sdk, name: string, preKeyCount: number) {
  const { email, api } = await account(sdk, name)
  const identity = await KeyHelper.generateIdentityKeyPair()
  const registrationId = KeyHelper.generateRegistrationId()
  const store = new MemoryStore(identity, registrationId)
  const signed = await KeyHelper.generateSignedPreKey(identity, 1)
  await store.storeSignedPreKey(1, signed.keyPair)
  const preKeys = []
  for (let keyId = 1; keyId <= preKeyCount; keyId++) {
    const k = await KeyHelper.generatePreKey(keyId)
    await store.storePreKey(keyId, k.keyPair)
    preKeys.push({ keyId, publicKey: b64(k.keyPair.pubKey) })
  }
  const signedPreKey = { keyId: 1, publicKey: b64(signed.keyPair.pubKey), signature: b64(signed.signature) }
  const created = await api.POST('/device/', {
    body: { address: `${name}.1`, identityKey: b64(identity.pubKey), registrationId, preKeys, signedPreKey },
  })
  if (created.response.status !== 201)
    throw new Error(`${name}: device registration answered ${created.response.status}`)
  return { name, email, api, identity, registrationId, store, signedPreKey }
}
type Client = Awaited<ReturnType<typeof client>>

/** Claims `to`'s bundle as `from` and builds a session from it; returns the bundle. */
async function startSession(tt: Test, from: Client, to: Client) {
  const res = await from.api.GET('/prekeybundle/{recipientEmail}/{registrationId}/', {
    params: { path: { recipientEmail: to.email, registrationId: from.registrationId } },
  })
  tt.equal(res.response.status, 200, `${from.name} gets ${to.name}'s bundle`)
  const bundle = res.data!
  const builder = new SessionBuilder(from.store, new SignalProtocolAddress(bundle.address, 1))
  await builder.processPreKey({
    registrationId: bundle.registrationId,
    identityKey: bytes(bundle.identityKey),
    signedPreKey: {
      ...bundle.signedPreKey,
      publicKey: bytes(bundle.signedPreKey.publicKey),
      signature: bytes(bundle.signedPreKey.signature),
    },
    ...(bundle.preKey && { preKey: { keyId: bundle.preKey.keyId, publicKey: bytes(bundle.preKey.publicKey) } }),
  })
  return bundle
}

async function send(tt: Test, from: Client, to: Client, text: string) {
  const cipher = new SessionCipher(from.store, new SignalProtocolAddress(`${to.name}.1`, 1))
  const ct = await cipher.encrypt(new TextEncoder().encode(text).buffer)
  const message = JSON.stringify({
    type: ct.type,
    body: Buffer.from(ct.body!, 'binary').toString('base64'),
    registrationId: to.registrationId,
  })
  const res = await from.api.POST('/messages/{registrationId}/', {
    params: { path: { registrationId: from.registrationId } },
    body: { recipient: to.email, message },
  })
  tt.equal(res.response.status, 201, `${from.name} -> ${to.name} stored`)
  return ct.type
}

/** Fetches, decrypts and deletes everything queued for `who`; returns the plaintexts in order. */
async function receive(tt: Test, who: Client): Promise<{ from: string; text: string }[]> {
  const path = { registrationId: who.registrationId }
  const res = await who.api.GET('/messages/{registrationId}/', { params: { path } })
  tt.equal(res.response.status, 200)
  const out = []
  for (const m of res.data!) {
    const { type, body } = JSON.parse(m.content) as { type: number; body: string }
    const cipher = new SessionCipher(who.store, new SignalProtocolAddress(m.senderAddress, 1))
    const binary = Buffer.from(body, 'base64').toString('binary')
    const plain =
      type === 3
        ? await cipher.decryptPreKeyWhisperMessage(binary, 'binary')
        : await cipher.decryptWhisperMessage(binary, 'binary')
    out.push({ from: m.senderAddress, text: new TextDecoder().decode(plain) })
  }
  if (res.data!.length) {
    const deleted = await who.api.DELETE('/messages/{registrationId}/', {
      params: { path },
      body: res.data!.map((m) => m.id),
    })
    tt.equal(deleted.response.status, 200)
  }
  const left = await who.api.GET('/messages/{registrationId}/', { params: { path } })
  tt.same(left.data, [], `${who.name}'s queue is empty after the fetch`)
  return out
}

async function counts(api: SignalServerClient, registrationId: number) {
  return (await api.GET('/prekeys/{registrationId}/', { params: { path: { registrationId } } })).data
}

t.test('two libsignal-protocol-typescript clients talk through the server', async (tt) => {
  const { sdk } = await startServer(tt)
  const alice = await client(sdk, 'alice', 3)
  const bob = await client(sdk, 'bob', 5)
  tt.same(await counts(alice.api, alice.registrationId), { count: 3, pqCount: 0 })

  const bundle = await startSession(tt, bob, alice)
  tt.equal(bundle.identityKey, b64(alice.identity.pubKey))
  tt.ok(bundle.preKey, 'the first bundle carries a one-time prekey')
  tt.notOk(bundle.pqPreKey, 'no Kyber prekey: this client never uploaded one')
  tt.same(await counts(alice.api, alice.registrationId), { count: 2, pqCount: 0 }, 'the claim used one up')

  // 25 rounds both ways; Bob's first messages are PreKey messages until Alice answers.
  const long = 'x'.repeat(10_000)
  for (let round = 0; round < 25; round++) {
    const fromBob = [`bob ${round}: héllo ✓ 🔐`, ...(round === 7 ? [long] : [])]
    for (const text of fromBob) {
      const type = await send(tt, bob, alice, text)
      if (round === 0) tt.equal(type, 3, 'the first message is a PreKeyWhisperMessage')
    }
    tt.same(
      await receive(tt, alice),
      fromBob.map((text) => ({ from: 'bob.1', text })),
    )
    const reply = `alice ${round}: 你好`
    tt.equal(await send(tt, alice, bob, reply), 1, 'replies are WhisperMessages')
    tt.same(await receive(tt, bob), [{ from: 'alice.1', text: reply }])
  }
  tt.equal(alice.store.preKeyCount, 2, "Alice's client removed the one-time prekey Bob used")

  // Other senders use up Alice's one-time prekeys; then one starts a session without any.
  const carol = await client(sdk, 'carol', 1)
  const dave = await client(sdk, 'dave', 1)
  tt.ok((await startSession(tt, carol, alice)).preKey)
  tt.ok((await startSession(tt, dave, alice)).preKey)
  tt.same(await counts(alice.api, alice.registrationId), { count: 0, pqCount: 0 })
  const erin = await client(sdk, 'erin', 1)
  tt.notOk((await startSession(tt, erin, alice)).preKey, 'no one-time prekey left: the bundle comes without')
  await send(tt, erin, alice, 'erin, with no one-time prekey')
  await send(tt, carol, alice, 'carol')
  tt.same(await receive(tt, alice), [
    { from: 'erin.1', text: 'erin, with no one-time prekey' },
    { from: 'carol.1', text: 'carol' },
  ])
  await send(tt, alice, erin, 'hi erin')
  tt.same(await receive(tt, erin), [{ from: 'alice.1', text: 'hi erin' }])

  // Alice rotates her signed prekey, keeping the old one for sessions in flight.
  const rotated = await KeyHelper.generateSignedPreKey(alice.identity, 2)
  await alice.store.storeSignedPreKey(2, rotated.keyPair)
  const signedPreKey = { keyId: 2, publicKey: b64(rotated.keyPair.pubKey), signature: b64(rotated.signature) }
  const replaced = await alice.api.POST('/signedprekey/{registrationId}/', {
    params: { path: { registrationId: alice.registrationId } },
    body: signedPreKey,
  })
  tt.equal(replaced.response.status, 200)
  const frank = await client(sdk, 'frank', 1)
  tt.same((await startSession(tt, frank, alice)).signedPreKey, signedPreKey, 'new bundles carry the new signed prekey')
  await send(tt, frank, alice, 'frank after the rotation')
  await send(tt, bob, alice, 'bob after the rotation')
  tt.same(await receive(tt, alice), [
    { from: 'frank.1', text: 'frank after the rotation' },
    { from: 'bob.1', text: 'bob after the rotation' },
  ])
  await send(tt, alice, bob, 'alice after the rotation')
  tt.same(await receive(tt, bob), [{ from: 'alice.1', text: 'alice after the rotation' }])

  // The key check agrees with what Alice holds now, and not with what she held before.
  const check = (digest: string) =>
    alice.api.POST('/keys/check/{registrationId}/', {
      params: { path: { registrationId: alice.registrationId } },
      body: { digest },
    })
  const now = await check(await keyDigest(b64(alice.identity.pubKey), signedPreKey))
  tt.equal(now.response.status, 200)
  tt.equal(now.data?.code, 'keys_match')
  const old = await check(await keyDigest(b64(alice.identity.pubKey), alice.signedPreKey))
  tt.equal(old.response.status, 409)
  tt.equal(old.error?.code, 'keys_mismatch')
})
