import { createHash } from 'node:crypto'

type Key = { keyId: number; publicKey: string }

/**
 * The digest `POST /keys/check/` compares (defined in openapi.yaml, `checkKeys`): SHA-256 over the
 * serialized identity key, the signed prekey's keyId (u64 big-endian) and public key, then, when
 * there is one, the last-resort Kyber prekey's keyId (u64 big-endian) and public key. Keys are the
 * base64 strings the API carries. Clients compute the same with this function from the SDK.
 */
export function keyDigest(identityKey: string, signedPreKey: Key, lastResort?: Key): Buffer {
  const hash = createHash('sha256').update(Buffer.from(identityKey, 'base64'))
  for (const key of lastResort ? [signedPreKey, lastResort] : [signedPreKey]) {
    const id = Buffer.alloc(8)
    id.writeBigUInt64BE(BigInt(key.keyId))
    hash.update(id).update(Buffer.from(key.publicKey, 'base64'))
  }
  return hash.digest()
}
