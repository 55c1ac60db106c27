import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { DeviceRow } from '../db/devices.js'
import { isDatabaseUnavailable } from '../db/dialect.js'
import {
  CLOSE,
  PROVISIONING_SUBPROTOCOL,
  SUBPROTOCOL,
  credentialsFromProtocols,
  parseClientFrame,
  type ServerFrame,
} from '../lib/message-stream.js'
import { type MessageRow, toMessage } from '../db/messages.js'
import { expiryCutoff } from '../lib/expiry.js'
import type { BusEvent } from './bus.js'

declare module 'fastify' {
  interface FastifyInstance {
    delivery: {
      /** Open message sockets on this instance. */
      connectionCount(): number
      /** Before the upgrade (onRequest): credentials a browser sent as subprotocols become headers. */
      liftCredentials(request: FastifyRequest): Promise<void>
      /** Before the upgrade (preHandler): the path's registration ID must be the caller's device. */
      authorize(request: FastifyRequest): Promise<void>
      /** After the upgrade: delivers the device's queue over the socket until it closes. */
      accept(socket: WebSocket, request: FastifyRequest): void
    }
  }
}

type Connection = {
  id: string
  openedAt: number
  socket: WebSocket
  userId: number
  sessionId: string
  deviceId: number
  /** The token is bound to this device: messages carry their sender, and its session ends with the device. */
  withSender: boolean
  /** When the token's session expires (ms). */
  expiresAt: number
  /** Ids sent on this socket and not acknowledged: never sent twice on one connection. */
  sent: Set<number>
  /** Deliveries on one socket run one after another, so nothing overtakes or duplicates. */
  chain: Promise<void>
  alive: boolean
}

// Backlog rows read per query: a long queue never sits in memory whole.
const PAGE = 100
// Room for an ack of MAX_ACK_IDS ids; anything larger is not a frame this protocol has.
const MAX_FRAME_BYTES = 64 * 1024

/** Which of two connections of one device is newer, the same on every instance. */
const newer = (a: { openedAt: number; id: string }, b: { openedAt: number; id: string }) =>
  a.openedAt !== b.openedAt ? a.openedAt > b.openedAt : a.id > b.id

export default fp(
  async (app) => {
    const { db, config, bus } = app
    const connections = new Set<Connection>()
    const byDevice = new Map<number, Connection>()
    // The device each upgrade was authorised for (preHandler), for the upgrade's handler.
    const authorized = new WeakMap<FastifyRequest, DeviceRow>()

    const send = (conn: Connection, frame: ServerFrame) =>
      new Promise<void>((resolve) => {
        if (conn.socket.readyState !== conn.socket.OPEN) return resolve()
        conn.socket.send(JSON.stringify(frame), () => resolve())
      })

    const close = (conn: Connection, code: number, reason: string) => {
      if (conn.socket.readyState === conn.socket.OPEN || conn.socket.readyState === conn.socket.CONNECTING)
        conn.socket.close(code, reason)
    }

    /**
     * Closes a socket whose delivery or ack failed; the client reconnects and gets what it has not
     * acknowledged. An unreachable database is 1013 (try again later), never 4401: nothing says the
     * session ended.
     */
    const fail = (conn: Connection, err: Error, what: string) => {
      if (isDatabaseUnavailable(err)) {
        app.log.warn({ err: err.message }, `${what}: database unavailable`)
        close(conn, CLOSE.unavailable, 'database unavailable')
      } else {
        app.log.error({ err: err.message }, what)
        close(conn, CLOSE.serverError, what)
      }
    }

    /** Runs `job` after the socket's earlier deliveries; a failure closes the socket (the client reconnects). */
    const enqueue = (conn: Connection, job: () => Promise<void>) => {
      conn.chain = conn.chain.then(job).catch((err: Error) => fail(conn, err, 'delivery failed'))
      return conn.chain
    }

    const deliver = async (conn: Connection, row: MessageRow) => {
      if (conn.sent.has(row.id) || conn.socket.readyState !== conn.socket.OPEN) return
      conn.sent.add(row.id)
      await send(conn, { type: 'message', message: toMessage(row, conn.withSender) })
    }

    /** Sends every queued message not yet sent on this socket, oldest first. */
    const sendBacklog = async (conn: Connection) => {
      let afterId = 0
      for (;;) {
        const rows = await db.messages.listFor(conn.deviceId, {
          afterId,
          limit: PAGE,
          createdAfter: expiryCutoff(config),
        })
        for (const row of rows) await deliver(conn, row)
        if (rows.length < PAGE || conn.socket.readyState !== conn.socket.OPEN) return
        afterId = rows[rows.length - 1].id
      }
    }

    /**
     * Closes the socket when its device or session is gone; true while it may stay. A session that
     * ended with a device still there, or an unbound session gone with the whole account, is 4401;
     * a device removed (which also ends the sessions bound to it) is 4404.
     */
    const stillValid = async (conn: Connection): Promise<boolean> => {
      const [device, session] = await Promise.all([
        db.devices.findById(conn.deviceId),
        Date.now() < conn.expiresAt ? db.sessions.active(conn.sessionId) : undefined,
      ])
      const deviceGone = device?.user_id !== conn.userId
      const sessionGone = session?.userId !== conn.userId
      if (deviceGone && (!sessionGone || conn.withSender)) close(conn, CLOSE.deviceGone, 'device gone')
      else if (sessionGone) close(conn, CLOSE.sessionEnded, 'session ended')
      return !deviceGone && !sessionGone
    }

    const onEvent = (event: BusEvent) => {
      if (event.type === 'message') {
        const conn = byDevice.get(event.deviceId)
        if (!conn || conn.sent.has(event.messageId)) return
        void enqueue(conn, async () => {
          // Acknowledged, deleted or expired meanwhile: then there is nothing to send.
          const [row] = await db.messages.listFor(conn.deviceId, {
            afterId: event.messageId - 1,
            limit: 1,
            createdAfter: expiryCutoff(config),
          })
          if (row?.id === event.messageId) await deliver(conn, row)
        })
      } else if (event.type === 'account' || event.type === 'devices') {
        const tell = event.type === 'devices'
        for (const conn of connections)
          if (conn.userId === event.userId)
            void enqueue(conn, async () => {
              if ((await stillValid(conn)) && tell) await send(conn, { type: 'devices_changed' })
            })
      } else if (event.type === 'connected') {
        const conn = byDevice.get(event.deviceId)
        if (conn && conn.id !== event.connectionId && newer({ openedAt: event.openedAt, id: event.connectionId }, conn))
          close(conn, CLOSE.replaced, 'replaced by a newer connection')
      }
    }
    const unsubscribe = bus.subscribe(onEvent)
    // Events sent while this instance was not listening are lost: every socket checks again.
    const unresync = bus.onResync(() => {
      for (const conn of connections)
        void enqueue(conn, async () => void ((await stillValid(conn)) && (await sendBacklog(conn))))
    })

    // Ping every interval; a socket that has not answered the previous ping is dead.
    const heartbeat = setInterval(() => {
      for (const conn of connections) {
        if (!conn.alive) {
          conn.socket.terminate()
          continue
        }
        if (Date.now() >= conn.expiresAt) close(conn, CLOSE.sessionEnded, 'session ended')
        conn.alive = false
        conn.socket.ping()
      }
    }, config.wsHeartbeatInterval * 1000)
    heartbeat.unref()

    // Before @fastify/websocket's own preClose (which closes without a code): say why.
    app.addHook('preClose', async () => {
      for (const conn of connections) close(conn, CLOSE.goingAway, 'server shutting down')
    })
    await app.register(websocket, {
      options: {
        maxPayload: MAX_FRAME_BYTES,
        // Agree to the socket's protocol name only: never echo a credential entry back.
        handleProtocols: (protocols: Set<string>, request: IncomingMessage) => {
          const wanted = request.url?.startsWith('/v2/provisioning') ? PROVISIONING_SUBPROTOCOL : SUBPROTOCOL
          return protocols.has(wanted) ? wanted : false
        },
      },
    })
    app.addHook('onClose', async () => {
      clearInterval(heartbeat)
      unsubscribe()
      unresync()
      // A client that does not answer the close handshake is not waited for.
      for (const conn of connections) conn.socket.terminate()
    })

    app.decorate('delivery', {
      connectionCount: () => connections.size,

      async liftCredentials(request: FastifyRequest) {
        if (String(request.headers.upgrade ?? '').toLowerCase() === 'websocket')
          credentialsFromProtocols(request.headers)
      },

      async authorize(request: FastifyRequest) {
        authorized.set(
          request,
          await request.caller.ownDevice((request.params as { registrationId: number }).registrationId),
        )
      },

      accept(socket: WebSocket, request: FastifyRequest) {
        const conn: Connection = {
          id: randomBytes(9).toString('base64url'),
          openedAt: Date.now(),
          socket,
          expiresAt: request.caller.expiresAt,
          userId: request.caller.userId,
          sessionId: request.caller.sessionId,
          deviceId: authorized.get(request)!.id,
          withSender: request.caller.boundDeviceId !== null,
          sent: new Set(),
          chain: Promise.resolve(),
          alive: true,
        }
        const previous = byDevice.get(conn.deviceId)
        if (previous) close(previous, CLOSE.replaced, 'replaced by a newer connection')
        connections.add(conn)
        byDevice.set(conn.deviceId, conn)
        socket.on('pong', () => {
          conn.alive = true
        })
        socket.on('close', () => {
          connections.delete(conn)
          if (byDevice.get(conn.deviceId) === conn) byDevice.delete(conn.deviceId)
        })
        socket.on('message', (data, isBinary) => {
          const frame = isBinary ? { invalid: 'Send text frames.' } : parseClientFrame(data.toString('utf8'))
          if ('invalid' in frame)
            return void send(conn, { type: 'error', code: 'invalid_frame', message: frame.invalid })
          // Not on the delivery chain: an ack need not wait behind a long backlog.
          const ids = [...new Set(frame.ids)]
          db.messages
            .deleteFor(conn.deviceId, ids)
            .then((deleted) => {
              for (const id of deleted) conn.sent.delete(id)
              return send(conn, {
                type: 'acked',
                deleted: ids.filter((id) => deleted.has(id)),
                missing: ids.filter((id) => !deleted.has(id)),
              })
            })
            .catch((err: Error) => fail(conn, err, 'acknowledgement failed'))
        })
        // Other instances close their older socket for this device.
        void bus.publish({ type: 'connected', deviceId: conn.deviceId, connectionId: conn.id, openedAt: conn.openedAt })
        void enqueue(conn, async () => {
          await sendBacklog(conn)
          await send(conn, { type: 'queue_empty' })
        })
      },
    })
  },
  { name: 'delivery', dependencies: ['config', 'db', 'auth', 'bus'] },
)
