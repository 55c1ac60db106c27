// A small client for the message socket (asyncapi.yaml): authenticates without putting the token in
// the URL, yields messages, acknowledges them, and optionally reconnects. It takes any WebSocket
// implementation with the browser's interface: the browser's own, or the `ws` package in Node.
import type { components } from './schema.js'

export type Message = components['schemas']['Message']

/** The part of the WebSocket interface this client uses (browsers' WebSocket and `ws` have it). */
export interface WebSocketLike {
  readonly readyState: number
  readonly protocol: string
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open', listener: () => void): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void
  addEventListener(type: 'error', listener: (event: unknown) => void): void
}
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike

export type MessageSocketOptions = {
  /** The server's address, e.g. `https://chat.example.com`. */
  baseUrl: string
  token: string
  /** The caller's own device's registration ID. */
  registrationId: number
  /** Defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor
  /**
   * For a device with a `signingKey`: the `Signature` value (`<counter>.<base64 signature>`) for
   * `GET` of `path`, with a fresh counter each call (see openapi.yaml, `Signature`).
   */
  sign?: (method: 'GET', path: string) => string | Promise<string>
  /** Reconnect after a drop or a server restart (not after 4401, 4404 or 4409). Default true. */
  reconnect?: boolean
  /** Delay before the first reconnection; doubled after each failure up to 30 s. Default 500 ms. */
  reconnectDelayMs?: number
  /** Called when a device was added to or removed from the account: fetch `GET /v2/devices/` again. */
  onDevicesChanged?: () => void
}

/** Why the socket ended for good. */
export class MessageSocketClosed extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`message socket closed: ${code}${reason ? ` ${reason}` : ''}`)
    this.name = 'MessageSocketClosed'
  }
}

/** Close codes after which reconnecting cannot help (asyncapi.yaml). */
export const FINAL_CLOSE_CODES = [4401, 4404, 4409]
const SUBPROTOCOL = 'signal.messages.v1'

export type MessageSocket = {
  /** The messages, oldest first; each at most once per MessageSocket, even across reconnections. Ends with close(). */
  [Symbol.asyncIterator](): AsyncIterator<Message>
  /** Acknowledges (deletes) messages. Unacknowledged ones are sent again after a reconnection. */
  ack(ids: number | number[]): void
  /** Resolves once the queue that was waiting at the first connection has been delivered. */
  readonly caughtUp: Promise<void>
  close(): void
}

/** Opens the socket of the caller's device and keeps it open until close() or a final close code. */
export function connectMessages(options: MessageSocketOptions): MessageSocket {
  const found = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (!found) throw new Error('No WebSocket implementation: pass one as `WebSocket` (e.g. the `ws` package).')
  const Impl: WebSocketConstructor = found
  const path = `/messages/${options.registrationId}/websocket/`
  const url = options.baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws') + path

  const queue: Message[] = []
  // Yielded and not acknowledged: a copy sent again after a reconnection is dropped.
  const delivered = new Set<number>()
  const pendingAcks = new Set<number>()
  // Sent on the current socket and not answered yet.
  const ackInFlight = new Set<number>()
  let waiting: ((r: IteratorResult<Message>) => void) | undefined
  let failing: ((e: Error) => void) | undefined
  let ended: Error | null | undefined // null: closed by the caller
  let socket: WebSocketLike | undefined
  let delay = options.reconnectDelayMs ?? 500
  let markCaughtUp!: () => void
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve))

  const push = (m: Message) => {
    if (delivered.has(m.id)) return
    delivered.add(m.id)
    if (waiting) {
      const w = waiting
      waiting = failing = undefined
      w({ value: m, done: false })
    } else queue.push(m)
  }
  const finish = (err: Error | null) => {
    ended = err
    if (err && failing) failing(err)
    else waiting?.({ value: undefined, done: true })
    waiting = failing = undefined
  }
  const flushAcks = () => {
    if (socket?.readyState !== 1) return
    const ids = [...pendingAcks].filter((id) => !ackInFlight.has(id)).slice(0, 1000)
    if (!ids.length) return
    for (const id of ids) ackInFlight.add(id)
    socket.send(JSON.stringify({ type: 'ack', ids }))
  }

  async function open(): Promise<void> {
    const protocols = [SUBPROTOCOL, `bearer.${options.token}`]
    if (options.sign) {
      const [counter, signature] = (await options.sign('GET', path)).split('.')
      protocols.push(`signature.${counter}.${signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`)
    }
    if (ended !== undefined) return
    const ws = new Impl(url, protocols)
    socket = ws
    ws.addEventListener('open', () => {
      delay = options.reconnectDelayMs ?? 500
      ackInFlight.clear()
      flushAcks()
    })
    ws.addEventListener('message', (event) => {
      const frame = JSON.parse(String(event.data)) as {
        type: string
        message?: Message
        deleted?: number[]
        missing?: number[]
      }
      if (frame.type === 'message' && frame.message) push(frame.message)
      else if (frame.type === 'queue_empty') markCaughtUp()
      else if (frame.type === 'devices_changed') options.onDevicesChanged?.()
      else if (frame.type === 'acked') {
        for (const id of [...(frame.deleted ?? []), ...(frame.missing ?? [])]) {
          pendingAcks.delete(id)
          ackInFlight.delete(id)
          delivered.delete(id)
        }
        flushAcks()
      }
    })
    ws.addEventListener('error', () => {})
    ws.addEventListener('close', ({ code, reason }) => {
      if (socket !== ws || ended !== undefined) return
      if (FINAL_CLOSE_CODES.includes(code) || options.reconnect === false)
        return finish(new MessageSocketClosed(code, reason))
      setTimeout(() => void open().catch((err: Error) => finish(err)), delay)
      delay = Math.min(delay * 2, 30_000)
    })
  }
  void open().catch((err: Error) => finish(err))

  return {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise<IteratorResult<Message>>((resolve, reject) => {
          const m = queue.shift()
          if (m) return resolve({ value: m, done: false })
          if (ended) return reject(ended)
          if (ended === null) return resolve({ value: undefined, done: true })
          waiting = resolve
          failing = reject
        }),
    }),
    ack(ids) {
      for (const id of Array.isArray(ids) ? ids : [ids]) pendingAcks.add(id)
      flushAcks()
    },
    caughtUp,
    close() {
      finish(null)
      socket?.close(1000)
    },
  }
}
