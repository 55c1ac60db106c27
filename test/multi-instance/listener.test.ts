import t from 'tap'
import knex from 'knex'
import { build, freshPostgresUrl, userWithDevice } from '../helper.js'
import { LISTENER_NAME } from '../../plugins/bus.js'
import { connect, socketUrl } from '../message-socket.js'
import { requires } from '../requirements.js'

// The instance's LISTEN connection to PostgreSQL is lost (a restart, a failover, a killed backend):
// it reconnects, and every socket reads its queue again, so an event sent meanwhile is not missed.

t.test(
  'after the listener reconnects, sockets get what was stored while it was away',
  await requires('postgres'),
  async (tt) => {
    const databaseUrl = await freshPostgresUrl(tt)
    const { app, api } = await build(tt, { databaseUrl })
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const bob = await userWithDevice(api)
    const alice = await userWithDevice(api)
    const s = await connect(tt, socketUrl(address, bob.registrationId), { token: bob.token })
    await s.backlog()

    const admin = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } })
    tt.teardown(() => admin.destroy())
    const listeners = async () =>
      (
        await admin.raw(
          'SELECT pid FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()',
          [LISTENER_NAME],
        )
      ).rows
    const [listener] = await listeners()
    tt.ok(listener, 'the instance listens on a connection of its own')
    await admin.raw('SELECT pg_terminate_backend(?)', [listener.pid])

    // Stored without any event, as if its NOTIFY had been sent while nobody listened.
    const [device] = await admin('devices').where({ registration_id: bob.registrationId })
    const [sender] = await admin('devices').where({ registration_id: alice.registrationId })
    const row = await app.db.messages.insertBounded(
      {
        recipient_device_id: device.id,
        sender_address: sender.address,
        sender_registration_id: sender.registration_id,
        recipient_address: device.address,
        content: '{"registrationId":1}',
      },
      100,
    )
    const [pushed] = await s.messages(1)
    tt.equal(pushed.id, row!.id, 'delivered after the reconnection')
    const [again] = await listeners()
    tt.ok(again && again.pid !== listener.pid, 'listening again, on a new connection')
  },
)
