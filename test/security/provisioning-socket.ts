import type { FastifyInstance } from 'fastify'
import { connect, type Frame, type TestSocket } from '../message-socket.js'

// A provisioning socket opened for real (PUT /v2/provisioning/{address}/ answers 204 only once an
// open socket got the body), for the fuzzer and the authorization matrix, which otherwise talk to
// the app through inject. Its frames are checked against asyncapi.yaml by the test socket.

type T = { fail(msg: string): void; teardown(fn: () => unknown): void }

export type ProvisioningSocket = {
  address: string
  socket: TestSocket
  /** Whether the server still holds the address (its row in provisioning_sockets). */
  registered(): Promise<boolean>
  /** The linking messages the socket received. */
  received(): unknown[]
  /** Closes the socket and waits until the server has let the address go. */
  close(): Promise<void>
}

const addressRow = (app: FastifyInstance, address: string) =>
  app.db.knex('provisioning_sockets').where({ address }).first()

/** Opens a provisioning socket of the token's account on the listening app and reads its address. */
export async function openProvisioning(
  t: T,
  app: FastifyInstance,
  baseUrl: string,
  token: string,
): Promise<ProvisioningSocket> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/v2/provisioning/websocket/`
  const socket = await connect(t, url, { token, protocols: ['signal.provisioning.v1'] })
  const first = (await socket.next('provisioning_address' as unknown as Frame['type'])) as unknown as {
    address: string
  }
  const { address } = first
  return {
    address,
    socket,
    registered: async () => (await addressRow(app, address)) !== undefined,
    received: () => socket.frames.filter((f) => (f as { type: string }).type === 'provisioning_message'),
    async close() {
      socket.ws.close()
      await socket.closed
      // The server drops the row when it sees the close; wait for that, so no snapshot sees it go.
      for (let i = 0; (await addressRow(app, address)) !== undefined; i++) {
        if (i > 500) throw new Error(`provisioning address ${address} still registered after its socket closed`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },
  }
}
