import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { ApiError } from '../lib/api-error.js'
import { parseSignatureHeader, signedMessage } from '../lib/request-signing.js'
import { verifyEd25519 } from '../lib/xeddsa.js'
import type { DeviceRow } from '../db/devices.js'

declare module 'fastify' {
  interface FastifyInstance {
    deviceSignature: {
      /**
       * For operations marked `x-device-signed`: loads the caller's device onto `request.device`
       * and, when it registered a `signingKey`, requires a valid `Signature` header with a fresh
       * counter (401 `invalid_request_signature` otherwise).
       */
      check(request: FastifyRequest): Promise<void>
    }
  }
  interface FastifyRequest {
    /** The caller's device, when an `x-device-signed` operation loaded it (null: none). */
    device?: DeviceRow | null
    /** The body exactly as received, for signature checks. */
    rawBody?: string
  }
}

const refused = (why: string) => new ApiError(401, 'invalid_request_signature', `Request signature ${why}.`)

export default fp(
  async (app) => {
    app.decorateRequest('device', undefined)
    app.decorateRequest('rawBody', undefined)
    app.decorate('deviceSignature', {
      async check(request: FastifyRequest) {
        // Usually loaded already, with the session (plugins/auth.ts).
        const device =
          request.device !== undefined ? request.device : ((await app.db.devices.findByUser(request.user.id)) ?? null)
        request.device = device
        if (!device?.signing_key) return
        const header = parseSignatureHeader(request.headers.signature)
        if (!header) throw refused('missing or malformed: send Signature: <counter>.<base64 signature>')
        const message = signedMessage(header.counter, request.method, request.url, request.rawBody)
        if (!verifyEd25519(Buffer.from(device.signing_key, 'base64'), message, header.signature))
          throw refused('does not verify against the device signing key')
        // Compare-and-set: of two requests with one counter, exactly one gets through.
        if (!(await app.db.devices.advanceSigningCounter(device.signing_key, header.counter)))
          throw refused('counter was already used')
      },
    })
  },
  { name: 'device-signature', dependencies: ['db', 'auth'] },
)
