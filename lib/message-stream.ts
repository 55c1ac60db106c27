import type { Schemas } from './handlers.js'

/**
 * The WebSocket message-delivery protocol (asyncapi.yaml describes it for client developers).
 * Close codes in the private-use range echo the HTTP status they resemble.
 */
export const CLOSE = {
  /** The server is shutting down: reconnect (to this or another instance). */
  goingAway: 1001,
  /** The server could not read or send the queue: reconnect later. */
  serverError: 1011,
  /** The database could not be reached (Try Again Later): reconnect after a pause; nothing acknowledged is lost. */
  unavailable: 1013,
  /** The token's session ended (logout, password change or reset, expiry, account deleted): log in again. */
  sessionEnded: 4401,
  /** The device was deleted or registered anew: this registration ID no longer receives messages. */
  deviceGone: 4404,
  /** A newer connection for the same device took over; do not reconnect automatically. */
  replaced: 4409,
} as const

/** The subprotocol a client names (with `Sec-WebSocket-Protocol`), and the server agrees to. */
export const SUBPROTOCOL = 'signal.messages.v1'
/** The provisioning socket's subprotocol (linking a new device). */
export const PROVISIONING_SUBPROTOCOL = 'signal.provisioning.v1'
/** Prefixes of the other subprotocol entries, which carry credentials a browser cannot send as headers. */
const TOKEN_PROTOCOL_PREFIX = 'bearer.'
const SIGNATURE_PROTOCOL_PREFIX = 'signature.'

const MAX_ACK_IDS = 1000

export type ServerFrame =
  | { type: 'message'; message: Schemas['Message'] }
  | { type: 'queue_empty' }
  | { type: 'acked'; deleted: number[]; missing: number[] }
  | { type: 'error'; code: 'invalid_frame'; message: string }
  | { type: 'devices_changed' }

export type ClientFrame = { type: 'ack'; ids: number[] }

/** The client frame in `data`, or the reason it is not one. */
export function parseClientFrame(data: string): ClientFrame | { invalid: string } {
  let frame: unknown
  try {
    frame = JSON.parse(data)
  } catch {
    return { invalid: 'The frame is not JSON.' }
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame))
    return { invalid: 'The frame must be a JSON object.' }
  const { type, ids, ...rest } = frame as Record<string, unknown>
  if (type !== 'ack') return { invalid: 'Unknown frame type; the only one is "ack".' }
  if (Object.keys(rest).length) return { invalid: `Unknown field "${Object.keys(rest)[0]}".` }
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_ACK_IDS)
    return { invalid: `"ids" must be an array of 1 to ${MAX_ACK_IDS} message ids.` }
  if (!ids.every((id) => Number.isSafeInteger(id) && id >= 1))
    return { invalid: '"ids" must hold positive integer message ids.' }
  return { type, ids: ids as number[] }
}

/**
 * Moves credentials from the offered subprotocols into the headers every other operation reads
 * them from (`bearer.<token>` → Authorization, `signature.<counter>.<base64url>` → Signature), for
 * browsers, which cannot set headers on a WebSocket. Headers actually sent win.
 */
export function credentialsFromProtocols(headers: Record<string, string | string[] | undefined>): void {
  const offered = String(headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
  const token = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
  const signature = offered.find((p) => p.startsWith(SIGNATURE_PROTOCOL_PREFIX))
  if (token && headers.authorization === undefined)
    headers.authorization = `Bearer ${token.slice(TOKEN_PROTOCOL_PREFIX.length)}`
  if (signature && headers.signature === undefined) {
    const [counter, sig = ''] = signature.slice(SIGNATURE_PROTOCOL_PREFIX.length).split('.')
    headers.signature = `${counter}.${Buffer.from(sig, 'base64url').toString('base64')}`
  }
}
