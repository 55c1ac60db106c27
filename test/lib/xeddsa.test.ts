import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { KEMKeyPair, PrivateKey, PublicKey } from '@signalapp/libsignal-client'
import { verifyXEdDSA, verifyXEdDSABase64 } from '../../lib/xeddsa.js'

// Written out, so the edge cases do not lean on a library's idea of them; noble's Fp only does the field division.
const p = 2n ** 255n - 19n
const L = 2n ** 252n + 27742317777372353535851937790883648493n
const Fp = ed25519.Point.Fp

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
const le = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n)
const toLE = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn))
const flip = (b: Uint8Array, bit: number) => {
  const c = Uint8Array.from(b)
  c[bit >> 3] ^= 1 << (bit & 7)
  return c
}
const djb = (u: Uint8Array) => Uint8Array.from([0x05, ...u])
const signBit = (sig: Uint8Array) => sig[63] >> 7

function fresh(message: Uint8Array = PrivateKey.generate().getPublicKey().serialize()) {
  const priv = PrivateKey.generate()
  return {
    identityKey: priv.getPublicKey().serialize(),
    message,
    signature: priv.sign(message as Uint8Array<ArrayBuffer>),
  }
}

// Made once with @signalapp/libsignal-client 0.103.0; they must keep verifying whatever that library does later.
const VECTORS = [
  {
    identityKey: '05c3081d2426b0a3d5351be887441704c578d091cb6e27f8d817577408d3df1b5b',
    message: '05667ab08ef72737dc682791119f209f91ce4740e22ca99fc169afbde33a91065a',
    signature:
      '5f1aceb9bb08437913c25fab4a233cf4a180e0523951b94c541853cc545395be' +
      'f6571a9f8f7648a591c85d23a98fde0d1078a012dbb6350d8e5156c5054f530b',
  },
  {
    identityKey: '0511962d036abc8c5d006b81c215d382c50998fbd402e4e1f71c1cff1f931ea25e',
    message: '054d2e4f4f58b9f85adaf5b1aadc2117da81c751ab4abfe2488b70822faf70a559',
    signature:
      'b66a8f3170ea1a12278ab7db3a6993bd46165c3f0b8a18f7166a4207f34a5971' +
      'de6d0ce58304252b85faf4bf840a5b7e8505960b8098c2fd63f55c60331c6889',
  },
  {
    identityKey: '052c030d7afe6409df4f880d3d7de7befefc13a26fc041db15c381ed81beea4125',
    message: '',
    signature:
      '8f20204198fd3fcde089857565153052d87277392333d409ae67512c5da3418e' +
      'c7a94a9b7df4e2a951ddce9c8127ffc75fd725edae3860cc9b09d687f07cb50b',
  },
].map((v) => ({ identityKey: hex(v.identityKey), message: hex(v.message), signature: hex(v.signature) }))
// A Kyber-sized message (a real key would be 1.5 KB of base64 in this file); the signature was made
// over exactly these bytes.
const KYBER_SHAPED = Uint8Array.from({ length: 1569 }, (_, i) => (i === 0 ? 0x08 : (i * 167 + 13) & 0xff))
const KYBER_VECTOR = {
  identityKey: 'BTbgQoyS+XMqE3aKXO3nXMN5V48R0j7wZ87HtDNm66kh',
  signature: 'dI/BlGNutQCVmlyeTJvQ3CKJ6+q/afTAskGmUGHmfxL0OkAd41Mv1rHpi+PRgHeYMJo3Vk/daRxzTe8VqH4yjw==',
}
const [V] = VECTORS

t.test(
  'signatures by fresh libsignal identity keys over signed-prekey public keys verify, whichever sign bit they carry',
  async (tt) => {
    const bySignBit = [0, 0]
    const failed: string[] = []
    const signBitIgnored: string[] = []
    for (let i = 0; i < 300; i++) {
      const { identityKey, message, signature } = fresh()
      bySignBit[signBit(signature)]++
      if (!verifyXEdDSA(identityKey, message, signature)) failed.push(b64(signature))
      // The bit picks which of the two Edwards keys is meant; with the other one the signature must fail.
      if (verifyXEdDSA(identityKey, message, flip(signature, 511))) signBitIgnored.push(b64(signature))
    }
    tt.same(failed, [], 'all 300 verify')
    tt.same(signBitIgnored, [], 'none verifies with its sign bit flipped')
    tt.equal(bySignBit[0] + bySignBit[1], 300)
    tt.ok(bySignBit[0] > 0, `sign bit 0 occurred (${bySignBit[0]} times)`)
    tt.ok(bySignBit[1] > 0, `sign bit 1 occurred (${bySignBit[1]} times)`)
  },
)

t.test('signatures over 1569-byte Kyber public keys verify', async (tt) => {
  for (let i = 0; i < 20; i++) {
    const kyber = KEMKeyPair.generate().getPublicKey().serialize()
    tt.equal(kyber.length, 1569)
    tt.equal(kyber[0], 0x08)
    const { identityKey, message, signature } = fresh(kyber)
    tt.equal(verifyXEdDSA(identityKey, message, signature), true)
  }
})

t.test('signatures over an empty and over a long message verify', async (tt) => {
  const empty = fresh(new Uint8Array(0))
  tt.equal(verifyXEdDSA(empty.identityKey, empty.message, empty.signature), true)
  const long = fresh(new Uint8Array(randomBytes(256 * 1024)))
  tt.equal(verifyXEdDSA(long.identityKey, long.message, long.signature), true)
  tt.equal(verifyXEdDSA(long.identityKey, long.message.subarray(1), long.signature), false, 'one byte shorter')
})

t.test('fixed vectors still verify', async (tt) => {
  tt.same(
    VECTORS.map((v) => signBit(v.signature)),
    [0, 1, 0],
    'the vectors cover both sign bits',
  )
  for (const [i, v] of VECTORS.entries())
    tt.equal(verifyXEdDSA(v.identityKey, v.message, v.signature), true, `vector ${i}`)
  tt.equal(
    verifyXEdDSABase64(KYBER_VECTOR.identityKey, b64(KYBER_SHAPED), KYBER_VECTOR.signature),
    true,
    'Kyber-sized vector',
  )
})

t.test('any change to signature, message or key fails', async (tt) => {
  const sigBitsAccepted = [...Array(512).keys()].filter((bit) =>
    verifyXEdDSA(V.identityKey, V.message, flip(V.signature, bit)),
  )
  tt.same(sigBitsAccepted, [], 'every one of the 512 single-bit flips of the signature is rejected')
  const msgBitsAccepted = [...Array(V.message.length).keys()]
    .map((i) => i * 8 + (i % 8))
    .filter((bit) => verifyXEdDSA(V.identityKey, flip(V.message, bit), V.signature))
  tt.same(msgBitsAccepted, [], 'a flipped bit in any byte of the message is rejected')
  const keyBitsAccepted = [...Array(32).keys()]
    .map((i) => 8 + i * 8 + (i % 8))
    .filter((bit) => verifyXEdDSA(flip(V.identityKey, bit), V.message, V.signature))
  tt.same(keyBitsAccepted, [], 'a flipped bit in any byte of the key is rejected')
  tt.equal(verifyXEdDSA(V.identityKey, V.message, flip(V.signature, 511)), false, 'the sign bit alone')
})

t.test('a signature only counts for its own key and its own message', async (tt) => {
  const a = fresh()
  const b = fresh(a.message)
  tt.equal(verifyXEdDSA(a.identityKey, a.message, b.signature), false, 'signed by another key')
  tt.equal(verifyXEdDSA(b.identityKey, a.message, a.signature), false, 'checked against another identity key')
  const otherPreKey = PrivateKey.generate().getPublicKey().serialize()
  tt.equal(
    verifyXEdDSA(a.identityKey, otherPreKey, a.signature),
    false,
    'checked as a signature over a different prekey',
  )
  tt.equal(verifyXEdDSA(a.identityKey, a.message, a.signature), true, 'while the untouched triple verifies')
})

function rejects(tt: Test, name: string, identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array) {
  let result: unknown
  tt.doesNotThrow(() => {
    result = verifyXEdDSA(identityKey, message, signature)
  }, `${name}: does not throw`)
  tt.equal(result, false, `${name}: false`)
}

t.test('malformed keys are rejected without throwing', async (tt) => {
  const u = V.identityKey.subarray(1)
  rejects(tt, '32-byte key (no type byte)', u, V.message, V.signature)
  rejects(tt, '34-byte key', Uint8Array.from([...V.identityKey, 0]), V.message, V.signature)
  for (const type of [0x00, 0x04, 0x06, 0x08, 0x85])
    rejects(tt, `type byte 0x${type.toString(16)}`, Uint8Array.from([type, ...u]), V.message, V.signature)
  rejects(tt, 'empty key', new Uint8Array(0), V.message, V.signature)
  // u and u + p name the same field element; only the canonical spelling is a key a client produced.
  rejects(tt, 'u + p (same point, non-canonical)', djb(toLE(le(u) + p)), V.message, V.signature)
  rejects(
    tt,
    'u with bit 255 set',
    djb(Uint8Array.from(u, (b, i) => (i === 31 ? b | 0x80 : b))),
    V.message,
    V.signature,
  )
  rejects(tt, 'u = p', djb(toLE(p)), V.message, V.signature)
  rejects(tt, 'u = 2^255 - 1', djb(toLE(2n ** 255n - 1n)), V.message, V.signature)
  rejects(tt, 'u = 2^256 - 1', djb(new Uint8Array(32).fill(0xff)), V.message, V.signature)
  for (const sig of [V.signature, flip(V.signature, 511)]) {
    rejects(tt, `u = p - 1 (u + 1 = 0, no Edwards point), sign bit ${signBit(sig)}`, djb(toLE(p - 1n)), V.message, sig)
    rejects(tt, `u = 0, sign bit ${signBit(sig)}`, djb(new Uint8Array(32)), V.message, sig)
  }
})

// The canonical u of every point of order 2, 4 or 8, except u = p - 1 (no Edwards image, covered above).
const SMALL_ORDER_U = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
]
const edwardsY = (u: bigint) => Fp.div(Fp.sub(u, 1n), Fp.add(u, 1n))
const challenge = (R: Uint8Array, A: Uint8Array, m: Uint8Array) =>
  le(createHash('sha512').update(R).update(A).update(m).digest()) % L

t.test('forgeries for small-order identity keys are rejected', async (tt) => {
  // For a small-order A, [k]A vanishes whenever its order divides k, and then s = r satisfies
  // [s]B = R + [k]A: anyone can sign for such a key, so it must not be taken as an identity.
  for (const u of SMALL_ORDER_U)
    for (const sign of [0, 0x80]) {
      const A = toLE(edwardsY(u))
      A[31] |= sign
      const Apoint = ed25519.Point.fromBytes(toLE(edwardsY(u)))
      tt.ok(Apoint.isSmallOrder(), `u = ${u} is of small order`)
      const message = new Uint8Array(randomBytes(33))
      for (;;) {
        const r = le(randomBytes(64)) % L
        const R = ed25519.Point.BASE.multiply(r).toBytes()
        if (!Apoint.multiplyUnsafe(challenge(R, A, message)).is0()) continue
        const forged = Uint8Array.from([...R, ...toLE(r)])
        forged[63] |= sign
        rejects(tt, `forged signature for u = ${u}, sign bit ${sign >> 7}`, djb(toLE(u)), message, forged)
        break
      }
    }
})

t.test('keys with a small-order component get the verdict libsignal gives', async (tt) => {
  // A = aB + T with T of order 2: [s]B - [k]A equals R only for even k, so a check by encoding
  // (libsignal's) and a cofactored one ([8]-multiplied) disagree on half of these signatures.
  const a = le(randomBytes(64)) % L
  const Apoint = ed25519.Point.BASE.multiply(a).add(ed25519.Point.fromBytes(toLE(p - 1n)))
  const A = Apoint.toBytes()
  const y = le(A) & ((1n << 255n) - 1n)
  const identityKey = djb(toLE(Fp.div(Fp.add(1n, y), Fp.sub(1n, y))))
  const verdicts = { true: 0, false: 0 }
  const disagreements: string[] = []
  for (let i = 0; i < 40; i++) {
    const message = new Uint8Array(randomBytes(33))
    const r = le(randomBytes(64)) % L
    const R = ed25519.Point.BASE.multiply(r).toBytes()
    const signature = Uint8Array.from([...R, ...toLE((r + challenge(R, A, message) * a) % L)])
    signature[63] |= A[31] & 0x80
    const libsignal = PublicKey.deserialize(identityKey as Uint8Array<ArrayBuffer>).verify(
      message as Uint8Array<ArrayBuffer>,
      signature as Uint8Array<ArrayBuffer>,
    )
    verdicts[`${libsignal}`]++
    if (verifyXEdDSA(identityKey, message, signature) !== libsignal)
      disagreements.push(`${b64(signature)} libsignal=${libsignal}`)
  }
  tt.same(disagreements, [])
  tt.ok(verdicts.true > 0 && verdicts.false > 0, `both verdicts occurred (${JSON.stringify(verdicts)})`)
})

t.test('malformed signatures are rejected without throwing', async (tt) => {
  const { identityKey: id, message: m, signature: sig } = V
  rejects(tt, '63-byte signature', id, m, sig.subarray(0, 63))
  rejects(tt, '65-byte signature', id, m, Uint8Array.from([...sig, 0]))
  rejects(tt, 'empty signature', id, m, new Uint8Array(0))
  rejects(tt, 'all-zero signature', id, m, new Uint8Array(64))
  rejects(tt, 'all-0xff signature', id, m, new Uint8Array(64).fill(0xff))

  // s + L satisfies the same equation ([s + L]B = [s]B) but is not the canonical scalar a signer emits.
  const s = le(sig.subarray(32)) & ((1n << 255n) - 1n)
  tt.ok(s + L < 2n ** 255n, 's + L leaves the sign bit free')
  const sPlusL = Uint8Array.from([...sig.subarray(0, 32), ...toLE(s + L)])
  sPlusL[63] |= sig[63] & 0x80
  rejects(tt, 's + L', id, m, sPlusL)
  rejects(tt, 's = L', id, m, Uint8Array.from([...sig.subarray(0, 32), ...toLE(L)]))

  // Smallest y with no x on the curve: R that cannot be decoded at all.
  let y = 2n
  while (
    (() => {
      try {
        ed25519.Point.fromBytes(toLE(y))
        return true
      } catch {
        return false
      }
    })()
  )
    y++
  rejects(tt, `R = undecodable y (${y})`, id, m, Uint8Array.from([...toLE(y), ...sig.subarray(32)]))
  rejects(tt, 'R = y of p (non-canonical)', id, m, Uint8Array.from([...toLE(p), ...sig.subarray(32)]))
  rejects(
    tt,
    'R with x = 0 and the sign bit set',
    id,
    m,
    Uint8Array.from([...toLE(1n | (1n << 255n)), ...sig.subarray(32)]),
  )
})

t.test('1000 random inputs never throw and never verify', async (tt) => {
  const lengths = [0, 1, 31, 32, 33, 34, 63, 64, 65]
  const pick = () => lengths[randomBytes(1)[0] % lengths.length]
  const accepted: string[] = []
  const threw: string[] = []
  for (let i = 0; i < 1000; i++) {
    // Mostly well-shaped inputs, so the garbage reaches the curve arithmetic rather than the length checks.
    const key = i % 4 ? djb(randomBytes(32)) : new Uint8Array(randomBytes(pick()))
    const msg = new Uint8Array(randomBytes(i % 40))
    const sig = new Uint8Array(randomBytes(i % 5 ? 64 : pick()))
    const seen = `${b64(key)} ${b64(msg)} ${b64(sig)}`
    try {
      if (verifyXEdDSA(key, msg, sig) !== false) accepted.push(seen)
    } catch {
      threw.push(seen)
    }
  }
  tt.same(threw, [])
  tt.same(accepted, [])
})

t.test('verifyXEdDSABase64 agrees with the byte version and rejects what is not base64', async (tt) => {
  const cases = [
    ...VECTORS,
    { ...V, signature: flip(V.signature, 0) },
    { ...V, message: flip(V.message, 3) },
    { ...V, identityKey: new Uint8Array(32) },
    fresh(),
  ]
  for (const [i, c] of cases.entries()) {
    const expected = verifyXEdDSA(c.identityKey, c.message, c.signature)
    tt.equal(
      verifyXEdDSABase64(b64(c.identityKey), b64(c.message), b64(c.signature)),
      expected,
      `case ${i} (${expected})`,
    )
  }
  const id = b64(V.identityKey),
    m = b64(V.message),
    s = b64(V.signature)
  for (const bad of ['!!!!', 'not base64 at all', '', '====', '\u00e9\u00e9\u00e9\u00e9']) {
    tt.equal(verifyXEdDSABase64(bad, m, s), false, `identity key ${JSON.stringify(bad)}`)
    tt.equal(verifyXEdDSABase64(id, m, bad), false, `signature ${JSON.stringify(bad)}`)
  }
})
