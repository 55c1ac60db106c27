import { ed25519 } from '@noble/curves/ed25519.js'

/**
 * Device-bound request signing (opt-in per device; openapi.yaml, "Request signing"). The header is
 * `Signature: <counter>.<base64 Ed25519 signature>` over the UTF-8 bytes of
 * `<counter>\n<METHOD>\n<path and query as sent>\n` followed by the exact body bytes (none for GET).
 * The counter must be greater than the last one the server accepted for the device, so a captured
 * request cannot be replayed, and a stolen auth token alone cannot act for the device.
 */
export function parseSignatureHeader(
  header: string | string[] | undefined,
): { counter: number; signature: Buffer } | undefined {
  if (typeof header !== 'string') return undefined // absent, or sent twice
  const match = /^([1-9][0-9]{0,15})\.([A-Za-z0-9+/]{86}==)$/.exec(header.trim())
  if (!match) return undefined
  const counter = Number(match[1])
  return Number.isSafeInteger(counter) ? { counter, signature: Buffer.from(match[2], 'base64') } : undefined
}

export function signedMessage(counter: number, method: string, url: string, body: Buffer | string | undefined): Buffer {
  return Buffer.concat([Buffer.from(`${counter}\n${method.toUpperCase()}\n${url}\n`, 'utf8'), Buffer.from(body ?? '')])
}

/**
 * True for a key a device can really sign with: the canonical encoding of a curve point that is not
 * of small order. Anything else would either lock the device out of its own operations or, for a
 * small-order point, let signatures be forged.
 */
export function isUsableSigningKey(publicKey: string): boolean {
  try {
    const point = ed25519.Point.fromBytes(Buffer.from(publicKey, 'base64'), false)
    return !point.isSmallOrder()
  } catch {
    return false
  }
}
