import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import pg from 'pg'
import { isPostgresUrl } from '../db/connection.js'

/**
 * What one instance tells all of them (itself included):
 * - `message`: a message was stored for a device (push it if that device is connected here);
 * - `account`: a user's sessions or device changed (logout, password change or reset, device or
 *   account deletion): re-check every socket of that user against the database;
 * - `devices`: a device of the user was added or removed: as `account`, and then every socket of
 *   the user that stays open is told (`devices_changed`);
 * - `connected`: a device opened a socket: an older socket of that device, wherever, closes;
 * - `provision`: a linking message for a provisioning socket is in the database;
 * - `provisioned`: that socket's instance sent it.
 * Events carry ids only, never content: a receiver reads the rows itself.
 */
export type BusEvent =
  | { type: 'message'; deviceId: number; messageId: number }
  | { type: 'account'; userId: number }
  | { type: 'devices'; userId: number }
  | { type: 'provision'; address: string }
  | { type: 'provisioned'; address: string }
  | { type: 'connected'; deviceId: number; connectionId: string; openedAt: number }

declare module 'fastify' {
  interface FastifyInstance {
    bus: {
      /**
       * Tells every instance. Never throws: an event that cannot be sent is logged (the row is in
       * the database regardless).
       */
      publish(event: BusEvent): Promise<void>
      /** Calls `listener` for every event from any instance; returns the unsubscribe function. */
      subscribe(listener: (event: BusEvent) => void): () => void
      /** Calls `listener` after events may have been missed (the listener connection was lost and is back). */
      onResync(listener: () => void): () => void
    }
  }
}

const CHANNEL = 'signal_server_events'
/** The listening connection's application_name, as pg_stat_activity shows it. */
export const LISTENER_NAME = 'signal-server-listener'
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5000

function parseEvent(payload: string | undefined): BusEvent | undefined {
  try {
    const e = JSON.parse(payload ?? '') as BusEvent
    if (e.type === 'message' && Number.isInteger(e.deviceId) && Number.isInteger(e.messageId)) return e
    if ((e.type === 'account' || e.type === 'devices') && Number.isInteger(e.userId)) return e
    if ((e.type === 'provision' || e.type === 'provisioned') && typeof e.address === 'string') return e
    if (
      e.type === 'connected' &&
      Number.isInteger(e.deviceId) &&
      typeof e.connectionId === 'string' &&
      Number.isFinite(e.openedAt)
    )
      return e
  } catch {
    // not ours: ignored
  }
  return undefined
}

// PostgreSQL LISTEN/NOTIFY rather than Redis pub/sub: a NOTIFY is delivered only when the
// transaction that sent it commits, so no instance hears of a message before it can read the row;
// it needs no service besides the database every instance already shares; and it works whether or
// not REDIS_URL is set. On SQLite there is one instance, so events stay in the process.
export default fp(
  async (app) => {
    const local = new EventEmitter()
    local.setMaxListeners(0)
    const emit = (event: BusEvent) => local.emit('event', event)
    let publish: (event: BusEvent) => Promise<void>

    if (!isPostgresUrl(app.config.databaseUrl)) {
      publish = async (event) => void setImmediate(emit, event)
    } else {
      // Events published in one turn of the event loop (concurrent requests, or the devices of one
      // multi-device send) go out in one statement: one round trip instead of one per event.
      type Waiting = { payload: string; done: (err?: Error) => void }
      let batch: Waiting[] | undefined
      const flush = () => {
        const sending = batch!
        batch = undefined
        app.db
          .notify(
            CHANNEL,
            sending.map((w) => w.payload),
          )
          .then(
            () => {
              for (const w of sending) w.done()
            },
            (err: Error) => {
              for (const w of sending) w.done(err)
            },
          )
      }
      publish = (event) =>
        new Promise<void>((resolve, reject) => {
          if (!batch) {
            batch = []
            setImmediate(flush)
          }
          batch.push({ payload: JSON.stringify(event), done: (err) => (err ? reject(err) : resolve()) })
        })
      let client: pg.Client | undefined
      let closing = false
      let delay = RECONNECT_MIN_MS
      let timer: NodeJS.Timeout | undefined

      // A dedicated connection outside the knex pool: LISTEN belongs to one session for its lifetime.
      const connect = async (isReconnect: boolean): Promise<void> => {
        const c = new pg.Client({
          connectionString: app.config.databaseUrl,
          application_name: LISTENER_NAME,
          connectionTimeoutMillis: app.config.databaseTimeout * 1000,
          keepAlive: true,
        })
        // Either event ends this client; only the first schedules the next attempt.
        let lost = false
        const onLost = (err?: Error) => {
          if (lost) return
          lost = true
          if (client === c) client = undefined
          c.end().catch(() => {})
          if (closing) return
          app.log.warn({ err: err?.message }, 'event listener connection lost; reconnecting')
          timer = setTimeout(() => void connect(true), delay)
          delay = Math.min(delay * 2, RECONNECT_MAX_MS)
        }
        c.on('error', onLost)
        c.on('end', () => onLost())
        c.on('notification', (n) => {
          const event = parseEvent(n.payload)
          if (event) emit(event)
        })
        try {
          await c.connect()
          await c.query(`LISTEN ${CHANNEL}`)
        } catch (err) {
          if (!isReconnect) throw err // at start-up: the database is unreachable, refuse to start
          onLost(err as Error)
          return
        }
        if (closing) return void c.end().catch(() => {})
        client = c
        delay = RECONNECT_MIN_MS
        // NOTIFYs sent while no listener was connected are gone: every socket looks again.
        if (isReconnect) local.emit('resync')
      }
      await connect(false)
      app.addHook('onClose', async () => {
        closing = true
        clearTimeout(timer)
        await client?.end().catch(() => {})
      })
    }

    app.decorate('bus', {
      async publish(event: BusEvent) {
        try {
          await publish(event)
        } catch (err) {
          app.log.warn(
            { err: (err as Error).message, event: event.type },
            'could not publish an event; receivers catch up on their next sync',
          )
        }
      },
      subscribe(listener: (event: BusEvent) => void) {
        local.on('event', listener)
        return () => void local.off('event', listener)
      },
      onResync(listener: () => void) {
        local.on('resync', listener)
        return () => void local.off('resync', listener)
      },
    })
  },
  { name: 'bus', dependencies: ['config', 'db'] },
)
