// Runs unchanged in Node.js (>= 20), browsers and React Native with WebCrypto: no Buffer, no node:crypto.

export type DigestKey = { keyId: number; publicKey: string }

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
}

function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

/**
 * The digest that `POST /keys/check/{registrationId}/` compares, as openapi.yaml defines it
 * (`checkKeys`): SHA-256 over the serialized identity key, the signed prekey's keyId (u64
 * big-endian) and serialized public key, then, when the device has one, the last-resort Kyber
 * prekey's keyId (u64 big-endian) and serialized public key. Keys are the base64 strings the API
 * carries; the result is base64, ready for the request body.
 */
export async function keyDigest(
  identityKey: string,
  signedPreKey: DigestKey,
  lastResortPreKey?: DigestKey,
): Promise<string> {
  const parts: Uint8Array[] = [fromBase64(identityKey)]
  for (const key of lastResortPreKey ? [signedPreKey, lastResortPreKey] : [signedPreKey]) {
    const id = new Uint8Array(8)
    new DataView(id.buffer).setBigUint64(0, BigInt(key.keyId))
    parts.push(id, fromBase64(key.publicKey))
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    all.set(p, offset)
    offset += p.length
  }
  return toBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', all)))
}
