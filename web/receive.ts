// The receive loop: the device's message socket (sdk/websocket.ts) pushes each queued and each new
// message; this decrypts it, stores it in the history, and only then acknowledges it, so that a
// crash in between means a redelivery, never a loss. A redelivered message is recognised by its
// server id and acknowledged again without decrypting (its keys are used up).
import { SessionCipher, SignalProtocolAddress } from '@privacyresearch/libsignal-protocol-typescript'
import { connectMessages, MessageSocketClosed, type components } from '../sdk/index.js'
import * as db from './db.js'
import { ProtocolStore, replenishPreKeys } from './keys.js'
import type { Envelope } from './send.js'
import type { Session } from './session.js'

type Message = components['schemas']['Message']

export type ReceiveEvents = {
  /** A message was stored (for the UI to show). */
  onMessage(message: db.StoredMessage): void
  /** A device was added to or removed from the account. */
  onDevicesChanged(): void
  /** The socket ended for good: 4401 the login ended, 4404 this device was removed, 4409 another tab took over. */
  onClosed(code: number): void
}

/** Decrypts one message; a PreKey message (type 3) also sets up the session it starts. */
async function decrypt(session: Session, m: Message): Promise<Envelope> {
  if (typeof m.senderEmail !== 'string' || typeof m.senderDeviceId !== 'number')
    throw new Error('the message names no sender device')
  const store = new ProtocolStore(session.device)
  const cipher = new SessionCipher(store, new SignalProtocolAddress(m.senderEmail, m.senderDeviceId))
  const { type, body } = JSON.parse(m.content) as { type: number; body: string }
  const binary = atob(body)
  const plain =
    type === 3
      ? await cipher.decryptPreKeyWhisperMessage(binary, 'binary')
      : await cipher.decryptWhisperMessage(binary, 'binary')
  return JSON.parse(new TextDecoder().decode(plain)) as Envelope
}

/** Stores one received message in the history: from a contact, or a sync of what this account wrote. */
async function keep(session: Session, m: Message, envelope: Envelope): Promise<db.StoredMessage> {
  const fromSelf = m.senderEmail === session.device.email
  return db.addMessage({
    contact: fromSelf && envelope.to ? envelope.to : m.senderEmail!,
    direction: fromSelf ? 'out' : 'in',
    text: envelope.text,
    timestamp: m.timestamp ?? Date.now(),
    senderDeviceId: m.senderDeviceId ?? undefined,
  })
}

/** Opens the socket and handles messages until it ends; answers a function that closes it. */
export function startReceiving(session: Session, events: ReceiveEvents): () => void {
  const socket = connectMessages({
    baseUrl: location.origin,
    token: session.token,
    registrationId: session.device.registrationId,
    onDevicesChanged: events.onDevicesChanged,
  })
  void (async () => {
    try {
      for await (const m of socket) {
        if (!(await db.get('state', `seen:${m.id}`))) {
          let stored: db.StoredMessage
          try {
            const envelope = await decrypt(session, m)
            stored = await keep(session, m, envelope)
            if (JSON.parse(m.content).type === 3) await replenishPreKeys(session.api, session.device)
          } catch (err) {
            // Undecryptable (a bug, or a session this browser lost): keep a note rather than the queue stuck.
            stored = await db.addMessage({
              contact: m.senderEmail ?? m.senderAddress,
              direction: 'in',
              text: `(a message that could not be decrypted: ${(err as Error).message})`,
              timestamp: m.timestamp ?? Date.now(),
            })
          }
          await db.put('state', `seen:${m.id}`, true)
          events.onMessage(stored)
        }
        socket.ack(m.id)
      }
    } catch (err) {
      if (err instanceof MessageSocketClosed) events.onClosed(err.code)
      else throw err
    }
  })()
  return () => socket.close()
}
