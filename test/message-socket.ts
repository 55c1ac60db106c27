import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'
import WebSocket from 'ws'
import { checkAgainstSpec } from './spec-check.js'
import { recordSocket } from './log-capture.js'

// A WebSocket client for tests: every frame the server sends is checked against asyncapi.yaml,
// so the document cannot drift from the server.

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default
const asyncapi = parse(readFileSync(fileURLToPath(new URL('../asyncapi.yaml', import.meta.url)), 'utf8'))
const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
ajv.addSchema({ components: asyncapi.components }, 'asyncapi')
const serverFrameNames = [
  'MessageFrame',
  'QueueEmptyFrame',
  'AckedFrame',
  'ErrorFrame',
  'DevicesChangedFrame',
  'ProvisioningAddressFrame',
  'ProvisioningMessageFrame',
]
const validators = Object.fromEntries(
  serverFrameNames.map((n) => [n, ajv.getSchema(`asyncapi#/components/schemas/${n}`)!]),
)
export const validateAckFrame = ajv.getSchema('asyncapi#/components/schemas/AckFrame')!

/** The problems of a server frame against asyncapi.yaml; none when it matches exactly one frame schema. */
function frameProblems(frame: unknown): string[] {
  const matching = serverFrameNames.filter((n) => validators[n](frame))
  return matching.length === 1
    ? []
    : [`frame ${JSON.stringify(frame).slice(0, 200)} matches ${matching.length} frame schemas of asyncapi.yaml`]
}

export type Message = {
  id: number
  content: string
  senderAddress: string
  recipientAddress: string
  senderRegistrationId: number
  created: string
  senderEmail?: string | null
  senderDeviceId?: number | null
  timestamp?: number
}
export type Frame =
  | { type: 'message'; message: Message }
  | { type: 'queue_empty' }
  | { type: 'acked'; deleted: number[]; missing: number[] }
  | { type: 'error'; code: string; message: string }
  | { type: 'devices_changed' }
  | { type: 'provisioning_address'; address: string }
  | { type: 'provisioning_message'; body: string }

type T = { fail(msg: string): void; teardown(fn: () => unknown): void }

export type OpenOptions = { token?: string; headers?: Record<string, string>; protocols?: string[]; autoPong?: boolean }

/** A socket whose frames are queued for `next()`; `closed` resolves with the close code. */
export class TestSocket {
  readonly frames: Frame[] = []
  private waiters: (() => void)[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  /** The HTTP answer when the server refused the upgrade (checked against openapi.yaml), else undefined once open. */
  readonly refused: Promise<{ status: number; body: { code?: string } } | undefined>

  constructor(
    readonly ws: WebSocket,
    t: T,
  ) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      for (const p of frameProblems(frame)) t.fail(`asyncapi: ${p}`)
      this.frames.push(frame)
      for (const wake of this.waiters.splice(0)) wake()
    })
    // The 101 is an answer of openMessageSocket like any other: checked against the contract (and
    // counted for the suite's operation coverage), its problems failing the test before any frame.
    ws.on('upgrade', (res) => {
      const upgrade = { status: res.statusCode!, contentType: '', body: undefined, headers: res.headers }
      for (const p of checkAgainstSpec('GET', new URL(ws.url).pathname, upgrade)) t.fail(`contract: ${p}`)
    })
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    this.refused = new Promise((resolve) => {
      ws.on('unexpected-response', (req, res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => {
          const body = text ? JSON.parse(text) : undefined
          const contentType = String(res.headers['content-type'] ?? '')
          const answer = { status: res.statusCode!, contentType, body, headers: res.headers }
          for (const p of checkAgainstSpec('GET', req.path, answer)) t.fail(`contract: ${p}`)
          resolve({ status: res.statusCode!, body })
          ws.terminate()
        })
      })
      ws.on('open', () => resolve(undefined))
      ws.on('error', () => resolve(undefined))
    })
    t.teardown(() => ws.terminate())
  }

  /** Waits until `ready()` holds, or throws after `timeoutMs`. */
  private async until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!ready()) {
      if (Date.now() > deadline)
        throw new Error(`${what} not within ${timeoutMs} ms (have: ${this.frames.map((f) => f.type).join(', ')})`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The first frame of `type`, removed with every frame before it. */
  async next<F extends Frame['type']>(type: F, timeoutMs?: number): Promise<Extract<Frame, { type: F }>> {
    await this.until(() => this.frames.some((f) => f.type === type), `a ${type} frame`, timeoutMs)
    const i = this.frames.findIndex((f) => f.type === type)
    return this.frames.splice(0, i + 1)[i] as Extract<Frame, { type: F }>
  }

  /** The messages before the next `queue_empty` frame (both removed). */
  async backlog(): Promise<Message[]> {
    await this.until(() => this.frames.some((f) => f.type === 'queue_empty'), 'queue_empty')
    const i = this.frames.findIndex((f) => f.type === 'queue_empty')
    return this.frames.splice(0, i + 1).flatMap((f) => (f.type === 'message' ? [f.message] : []))
  }

  /** The next `count` message frames (removed, with the other frames before them). */
  async messages(count: number, timeoutMs?: number): Promise<Message[]> {
    await this.until(
      () => this.frames.filter((f) => f.type === 'message').length >= count,
      `${count} messages`,
      timeoutMs,
    )
    const out: Message[] = []
    while (out.length < count) {
      const f = this.frames.shift()!
      if (f.type === 'message') out.push(f.message)
    }
    return out
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  async ack(ids: number[]) {
    this.send({ type: 'ack', ids })
    return this.next('acked')
  }
}

/** The socket URL of a device's queue on a server at `address` (http://host:port). */
export const socketUrl = (address: string, registrationId: number | string, query = '') =>
  `${address.replace(/^http/, 'ws')}/messages/${registrationId}/websocket/${query}`

export function openSocket(t: T, url: string, opts: OpenOptions = {}): TestSocket {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  const ws = new WebSocket(url, opts.protocols ?? ['signal.messages.v1'], { headers, autoPong: opts.autoPong ?? true })
  recordSocket(ws, url, headers, opts.protocols) // for the log audit
  return new TestSocket(ws, t)
}

/** Opens a socket and waits until it is open (throws with the HTTP status if refused). */
export async function connect(t: T, url: string, opts: OpenOptions = {}): Promise<TestSocket> {
  const s = openSocket(t, url, opts)
  const refusal = await s.refused
  if (refusal !== undefined || s.ws.readyState !== WebSocket.OPEN)
    throw new Error(`socket refused: ${refusal ? `${refusal.status} ${refusal.body?.code}` : 'not open'}`)
  return s
}
