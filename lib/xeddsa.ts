import { createPublicKey, verify } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'

const Fp = ed25519.Point.Fp
const DJB_TYPE = 0x05
// The u-coordinates of Curve25519's small-order points (cr.yp.to/ecdh.html; p - 1 has no Edwards
// point and is refused anyway). A key among them lets anyone forge signatures for it: with A of
// order 8, s = r passes whenever the challenge is a multiple of 8, one try in eight.
const SMALL_ORDER = new Set([
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
])

/**
 * Verifies an XEdDSA signature made by a libsignal identity key (a Curve25519 key: 0x05 then the
 * 32-byte Montgomery u-coordinate) over `message`.
 *
 * XEdDSA signs with the Edwards form of the Montgomery key. The u-coordinate fixes the Edwards y
 * (y = (u - 1) / (u + 1)) but not the sign of x; libsignal's signers (the C library behind
 * libsignal-protocol-javascript and the Rust libsignal) carry that sign in the top bit of the
 * signature's last byte, which is otherwise always zero because s < 2^253. With the sign put back
 * into the Edwards key and cleared from s, what is left is a plain Ed25519 signature, checked here
 * by OpenSSL under RFC 8032's rules (canonical s, R compared by its encoding), as libsignal does,
 * only stricter on keys: a non-canonical u or a small-order point is refused.
 * The field arithmetic of the conversion is @noble/curves'; the check itself is OpenSSL's because
 * it is twenty times faster than a pure-JS one, and a batch of 100 Kyber prekeys is 100 checks.
 */
export function verifyXEdDSA(identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (identityKey.length !== 33 || identityKey[0] !== DJB_TYPE || signature.length !== 64) return false
  const edwardsKey = montgomeryToEdwards(identityKey.subarray(1), signature[63] & 0x80)
  if (!edwardsKey) return false
  const sig = Uint8Array.from(signature)
  sig[63] &= 0x7f
  return verifyEd25519(edwardsKey, message, sig)
}

/** A plain Ed25519 check (OpenSSL) by a raw 32-byte public key; false for a key that is no point. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    })
    return verify(null, message, key, signature)
  } catch {
    return false
  }
}

/**
 * The Edwards public key (compressed, with the given sign bit) for a Montgomery u-coordinate, or
 * undefined for u >= p, u = -1 or a small-order u.
 */
function montgomeryToEdwards(u: Uint8Array, signBit: number): Uint8Array | undefined {
  let n = 0n
  for (let i = u.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(u[i])
  if (n >= Fp.ORDER || SMALL_ORDER.has(n)) return undefined // non-canonical or forgeable: no honest key is either
  const denominator = Fp.add(n, Fp.ONE)
  if (Fp.is0(denominator)) return undefined
  let y = Fp.div(Fp.sub(n, Fp.ONE), denominator)
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++, y >>= 8n) out[i] = Number(y & 0xffn)
  out[31] |= signBit
  return out
}

/** `verifyXEdDSA` on base64 inputs as the API carries them; false for anything that is not canonical base64. */
export function verifyXEdDSABase64(identityKey: string, message: string, signature: string): boolean {
  const [key, msg, sig] = [identityKey, message, signature].map((s) => Buffer.from(s, 'base64'))
  // Buffer skips characters outside the alphabet; only an exact round trip counts as base64.
  if (
    key.toString('base64') !== identityKey ||
    msg.toString('base64') !== message ||
    sig.toString('base64') !== signature
  )
    return false
  return verifyXEdDSA(key, msg, sig)
}
