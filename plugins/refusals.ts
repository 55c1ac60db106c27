import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'

// A request refused before its body is read (401, 413, 415, 429: the checks run before the body)
// is answered with `Connection: close`, and the rest of its body is read and discarded, up to a
// bound, before the connection closes. Without this Node closes the socket as soon as the answer
// is written while the client may still be sending: the kernel then resets the connection, and a
// client busy writing sees the reset instead of the answer. Past the bound (a body far larger than
// any the server takes) the connection is cut: the answer has been sent by then.
const LINGER_MIN_BYTES = 32 * 1024 * 1024

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0

export default fp(
  async (app) => {
    const limit = Math.max(LINGER_MIN_BYTES, app.initialConfig.bodyLimit ?? 0)

    function linger(req: IncomingMessage) {
      const socket = req.socket
      const destroySoon = socket.destroySoon
      let answered = false
      let read = 0
      // Node calls destroySoon once a `Connection: close` answer is written: half-close instead
      // (the client gets the answer and the end of it), and close once the body is in.
      socket.destroySoon = () => {
        answered = true
        if (req.complete) return destroySoon.call(socket)
        socket.end()
      }
      req.on('data', (chunk: Buffer) => {
        read += chunk.length
        if (read > limit) socket.destroy()
      })
      req.once('end', () => {
        socket.destroySoon = destroySoon
        if (answered) socket.destroySoon()
      })
      req.resume()
    }

    app.addHook('onSend', async (request, reply, payload) => {
      const req = request.raw
      // fastify itself sets `Connection: close` on a 413 for an announced length over the limit, but
      // lets Node close at once: that one lingers too.
      // (`complete` is Node's: an injected request has none, and no connection to keep.)
      if (req.complete !== false || !hasBody(req)) return payload
      reply.header('connection', 'close')
      linger(req)
      return payload
    })
  },
  { name: 'refusals' },
)
