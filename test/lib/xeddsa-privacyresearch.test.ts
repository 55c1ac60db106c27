import t from 'tap'
import { PrivateKey } from '@signalapp/libsignal-client'
import { verifyXEdDSA } from '../../lib/xeddsa.js'

// Its asm.js curve installs process-wide uncaughtException/unhandledRejection handlers (one of
// them calls abort()) when first used; take them off again so a failure here reports as a failure.
const events = ['uncaughtException', 'unhandledRejection']
const listeners = () => events.map((event) => process.listeners(event as 'warning') as unknown[])
const before = listeners()
const { KeyHelper } = await import('@privacyresearch/libsignal-protocol-typescript')
await KeyHelper.generateIdentityKeyPair()
listeners().forEach((now, i) => {
  for (const listener of now)
    if (!before[i].includes(listener)) process.removeListener(events[i], listener as () => void)
})

const bytes = (b: ArrayBuffer) => new Uint8Array(b)
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
const flip = (b: Uint8Array, bit: number) => {
  const c = Uint8Array.from(b)
  c[bit >> 3] ^= 1 << (bit & 7)
  return c
}
const signBit = (sig: Uint8Array) => sig[63] >> 7

// Only the library's signer is used: its Curve.verifySignature answers the opposite of its name.
async function signedPreKey(keyId: number) {
  const identity = await KeyHelper.generateIdentityKeyPair()
  const spk = await KeyHelper.generateSignedPreKey(identity, keyId)
  return {
    identity,
    identityKey: bytes(identity.pubKey),
    message: bytes(spk.keyPair.pubKey),
    signature: bytes(spk.signature),
  }
}

const made = await Promise.all([...Array(200).keys()].map((i) => signedPreKey(i + 1)))

t.test('the library produces libsignal-shaped keys and signatures', async (tt) => {
  const shapes = new Set(
    made.map(
      (m) => `${m.identityKey.length}/${m.identityKey[0]} ${m.message.length}/${m.message[0]} ${m.signature.length}`,
    ),
  )
  tt.same([...shapes], ['33/5 33/5 64'])
})

t.test('200 signed prekeys made by it verify, with both sign bits among them', async (tt) => {
  const failed = made.filter((m) => !verifyXEdDSA(m.identityKey, m.message, m.signature)).map((m) => b64(m.signature))
  tt.same(failed, [])
  const bySignBit = [0, 0]
  for (const m of made) bySignBit[signBit(m.signature)]++
  tt.ok(bySignBit[0] > 0, `sign bit 0 occurred (${bySignBit[0]} times)`)
  tt.ok(bySignBit[1] > 0, `sign bit 1 occurred (${bySignBit[1]} times)`)
})

t.test('one flipped bit in the signature, the signed prekey or the identity key fails', async (tt) => {
  const accepted: string[] = []
  for (const [i, m] of made.entries()) {
    // Spread the flipped positions so that, over the 200, every region of each input is hit.
    const sigBit = (i * 131) % 512
    const msgBit = (i * 37) % 264
    const keyBit = 8 + ((i * 53) % 256) // past the type byte, inside the u-coordinate
    if (verifyXEdDSA(m.identityKey, m.message, flip(m.signature, sigBit))) accepted.push(`signature bit ${sigBit}`)
    if (verifyXEdDSA(m.identityKey, flip(m.message, msgBit), m.signature)) accepted.push(`prekey bit ${msgBit}`)
    if (verifyXEdDSA(flip(m.identityKey, keyBit), m.message, m.signature)) accepted.push(`identity key bit ${keyBit}`)
    if (verifyXEdDSA(m.identityKey, m.message, flip(m.signature, 511))) accepted.push('sign bit')
  }
  tt.same(accepted, [])
})

t.test('a signature from one prekey bundle does not verify for another', async (tt) => {
  const [a, b] = made
  tt.equal(verifyXEdDSA(b.identityKey, a.message, a.signature), false, "another identity's key")
  tt.equal(verifyXEdDSA(a.identityKey, b.message, a.signature), false, 'another signed prekey')
  tt.equal(verifyXEdDSA(a.identityKey, a.message, b.signature), false, "another identity's signature")
})

t.test('it and @signalapp/libsignal-client sign compatibly', async (tt) => {
  tt.test(
    "over the same message, each library's signature verifies for its own key and not the other's",
    async (ttt) => {
      const js = made[0]
      const rust = PrivateKey.generate()
      const rustKey = rust.getPublicKey().serialize()
      const rustSig = rust.sign(js.message as Uint8Array<ArrayBuffer>)
      ttt.equal(verifyXEdDSA(js.identityKey, js.message, js.signature), true, 'privacyresearch signature, its key')
      ttt.equal(verifyXEdDSA(rustKey, js.message, rustSig), true, 'libsignal-client signature, its key')
      ttt.equal(
        verifyXEdDSA(rustKey, js.message, js.signature),
        false,
        'privacyresearch signature, the libsignal-client key',
      )
      ttt.equal(
        verifyXEdDSA(js.identityKey, js.message, rustSig),
        false,
        'libsignal-client signature, the privacyresearch key',
      )
    },
  )

  tt.test(
    'the same identity key in both libraries: same public key, both signatures verify, same sign bit',
    async (ttt) => {
      const mismatched: string[] = []
      for (let i = 0; i < 20; i++) {
        const identity = await KeyHelper.generateIdentityKeyPair()
        const spk = await KeyHelper.generateSignedPreKey(identity, i + 1)
        const rust = PrivateKey.deserialize(bytes(identity.privKey) as Uint8Array<ArrayBuffer>)
        const identityKey = bytes(identity.pubKey)
        ttt.same(rust.getPublicKey().serialize(), identityKey, 'libsignal-client derives the same public key')
        const pubKey = bytes(spk.keyPair.pubKey)
        const rustSig = rust.sign(pubKey as Uint8Array<ArrayBuffer>)
        const jsSig = bytes(spk.signature)
        if (!verifyXEdDSA(identityKey, pubKey, rustSig)) mismatched.push(`libsignal-client signature ${b64(rustSig)}`)
        if (!verifyXEdDSA(identityKey, pubKey, jsSig)) mismatched.push(`privacyresearch signature ${b64(jsSig)}`)
        // The bit is the sign of the key's Edwards x, so both signers must set the same one.
        if (signBit(rustSig) !== signBit(jsSig)) mismatched.push(`sign bits differ for ${b64(identityKey)}`)
      }
      ttt.same(mismatched, [])
    },
  )
})
