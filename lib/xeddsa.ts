import { createPublicKey, verify } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'

const Fp = ed25519.Point.Fp
const DJB_TYPE = 0x05

/**
 * Verifies an XEdDSA signature made by a libsignal identity key (a Curve25519 key: 0x05 then the
 * 32-byte Montgomery u-coordinate) over `message`.
 *
 * XEdDSA signs with the Edwards form of the Montgomery key. The u-coordinate fixes the Edwards y
 * (y = (u - 1) / (u + 1)) but not the sign of x; libsignal's signers (the C library behind
 * libsignal-protocol-javascript and the Rust libsignal) carry that sign in the top bit of the
 * signature's last byte, which is otherwise always zero because s < 2^253. With the sign put back
 * into the Edwards key and cleared from s, what is left is a plain Ed25519 signature, checked here
 * by OpenSSL under RFC 8032's rules (canonical s, R compared by its encoding), as libsignal does.
 * The field arithmetic of the conversion is @noble/curves'; the check itself is OpenSSL's because
 * it is twenty times faster than a pure-JS one, and a batch of 100 Kyber prekeys is 100 checks.
 */
export function verifyXEdDSA(identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (identityKey.length !== 33 || identityKey[0] !== DJB_TYPE || signature.length !== 64) return false
  const edwardsKey = montgomeryToEdwards(identityKey.subarray(1), signature[63] & 0x80)
  if (!edwardsKey) return false
  const sig = Uint8Array.from(signature)
  sig[63] &= 0x7f
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(edwardsKey).toString('base64url') }, format: 'jwk' })
    return verify(null, message, key, sig)
  } catch {
    return false // a key that does not decode to a point
  }
}

/** The Edwards public key (compressed, with the given sign bit) for a Montgomery u-coordinate, or undefined for u >= p or u = -1. */
function montgomeryToEdwards(u: Uint8Array, signBit: number): Uint8Array | undefined {
  let n = 0n
  for (let i = u.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(u[i])
  if (n >= Fp.ORDER) return undefined // non-canonical: no honest key encodes like this
  const denominator = Fp.add(n, Fp.ONE)
  if (Fp.is0(denominator)) return undefined
  let y = Fp.div(Fp.sub(n, Fp.ONE), denominator)
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++, y >>= 8n) out[i] = Number(y & 0xffn)
  out[31] |= signBit
  return out
}

/** `verifyXEdDSA` on base64 inputs as the API carries them; false for anything that does not decode. */
export function verifyXEdDSABase64(identityKey: string, message: string, signature: string): boolean {
  return verifyXEdDSA(Buffer.from(identityKey, 'base64'), Buffer.from(message, 'base64'), Buffer.from(signature, 'base64'))
}
