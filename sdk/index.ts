// The typed client for this server. `schema.d.ts` is generated from openapi.yaml, so every path,
// body and answer is checked by the compiler; openapi-fetch does the requests.
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch'
import type { paths } from './schema.js'

export type { paths, components, operations } from './schema.js'
/** Every error code the server answers with (openapi.yaml's ErrorCode); each error answer's type narrows it. */
export type ErrorCode = import('./schema.js').components['schemas']['ErrorCode']
export { keyDigest, type DigestKey } from './key-digest.js'
export {
  connectMessages,
  MessageSocketClosed,
  FINAL_CLOSE_CODES,
  type MessageSocket,
  type MessageSocketOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket.js'

export type SignalServerClient = Client<paths> & {
  /** Sets (or, with undefined, clears) the `auth_token` sent as `Authorization: Bearer ...`. */
  setToken(token: string | undefined): void
}

/**
 * A client for one server. `baseUrl` is the server's address, e.g. `https://chat.example.com`;
 * pass `fetch` to use another implementation than the global one.
 */
export function createSignalServerClient(options: ClientOptions & { token?: string }): SignalServerClient {
  const { token: initial, ...clientOptions } = options
  let token = initial
  const client = createClient<paths>(clientOptions)
  const auth: Middleware = {
    onRequest({ request }) {
      if (token !== undefined && !request.headers.has('authorization'))
        request.headers.set('authorization', `Bearer ${token}`)
      return request
    },
  }
  client.use(auth)
  return Object.assign(client, {
    setToken: (next: string | undefined) => {
      token = next
    },
  })
}
