import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { CLOSE } from '../lib/message-stream.js'
import type { BusEvent } from './bus.js'

declare module 'fastify' {
  interface FastifyInstance {
    provisioning: {
      /** After the upgrade: gives the socket its address and waits for its one linking message. */
      accept(socket: WebSocket, request: FastifyRequest): void
      /**
       * Delivers `body` to the account's provisioning socket at `address`, on whichever instance;
       * false when there is no such socket of that account, or it did not take the body in time.
       */
      deliver(userId: number, address: string, body: string): Promise<boolean>
    }
  }
}

/** An address lives while its socket is open, this long at most. */
const ADDRESS_TTL_MS = 10 * 60 * 1000
/** How long a sender waits for the socket's instance to take the body. */
const DELIVERY_WAIT_MS = 5000

// Linking a new device with the account's shared identity key: the new device opens a socket and
// shows its address; an existing device seals the key material for it and PUTs it there. The
// server relays the sealed bytes and never reads them. The body travels through the database (a
// NOTIFY carries at most 8000 bytes), the bus only says where to look.
export default fp(
  async (app) => {
    const { db, bus } = app
    const sockets = new Map<string, WebSocket>()
    // Senders waiting for their body to be taken, by address.
    const waiting = new Map<string, () => void>()

    const onEvent = (event: BusEvent) => {
      if (event.type === 'provision') {
        const socket = sockets.get(event.address)
        if (!socket) return
        db.provisioning
          .take(event.address)
          .then(async (body) => {
            if (body === undefined) return
            await new Promise<void>((resolve) =>
              socket.send(JSON.stringify({ type: 'provisioning_message', body }), () => resolve()),
            )
            socket.close(1000, 'provisioned')
            await bus.publish({ type: 'provisioned', address: event.address })
          })
          .catch((err: Error) => {
            app.log.error({ err: err.message }, 'provisioning delivery failed')
            socket.close(CLOSE.serverError, 'delivery failed')
          })
      } else if (event.type === 'provisioned') {
        waiting.get(event.address)?.()
      }
    }
    const unsubscribe = bus.subscribe(onEvent)
    app.addHook('preClose', async () => {
      for (const socket of sockets.values()) socket.close(CLOSE.goingAway, 'server shutting down')
    })
    app.addHook('onClose', async () => unsubscribe())

    app.decorate('provisioning', {
      accept(socket: WebSocket, request: FastifyRequest) {
        const address = randomBytes(16).toString('base64url') // 128 bits
        const timer = setTimeout(() => socket.close(1000, 'address expired'), ADDRESS_TTL_MS)
        timer.unref()
        socket.on('close', () => {
          clearTimeout(timer)
          sockets.delete(address)
          db.provisioning.remove(address).catch(() => {}) // else it expires
        })
        // The socket only listens: any frame from the client is ignored.
        db.provisioning
          .register(address, request.caller.userId, Date.now() + ADDRESS_TTL_MS)
          .then(() => {
            if (socket.readyState !== socket.OPEN) return
            sockets.set(address, socket)
            socket.send(JSON.stringify({ type: 'provisioning_address', address }))
          })
          .catch((err: Error) => {
            app.log.error({ err: err.message }, 'provisioning socket could not be registered')
            socket.close(CLOSE.serverError, 'could not register')
          })
      },

      async deliver(userId: number, address: string, body: string) {
        if (!(await db.provisioning.leave(address, userId, body))) return false
        const taken = new AbortController()
        waiting.set(address, () => taken.abort())
        try {
          await bus.publish({ type: 'provision', address })
          const timeout = AbortSignal.timeout(DELIVERY_WAIT_MS)
          await once(AbortSignal.any([taken.signal, timeout]), 'abort').catch(() => {})
          if (taken.signal.aborted) return true
          // No word in time: whoever deletes the row decides. Taken meanwhile means delivered.
          return !(await db.provisioning.withdraw(address))
        } finally {
          waiting.delete(address)
        }
      },
    })
  },
  { name: 'provisioning', dependencies: ['db', 'bus', 'auth'] },
)
