import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { errors } from '../lib/errors.js'
import { parseSignatureHeader, signedMessage } from '../lib/request-signing.js'
import { verifyEd25519 } from '../lib/xeddsa.js'

declare module 'fastify' {
  interface FastifyInstance {
    deviceSignature: {
      /**
       * For operations marked `x-device-signed`: when the caller's device registered a `signingKey`,
       * requires a valid `Signature` header with a fresh counter (401 `invalid_request_signature` otherwise).
       */
      check(request: FastifyRequest): Promise<void>
    }
  }
  interface FastifyRequest {
    /** The body exactly as received, for signature checks. */
    rawBody?: string
  }
}

const refused = errors.invalidRequestSignature

export default fp(
  async (app) => {
    app.decorateRequest('rawBody', undefined)
    app.decorate('deviceSignature', {
      async check(request: FastifyRequest) {
        // Loaded with the session already (plugins/auth.ts): x-device-signed operations load it eagerly.
        const device = await request.caller.device()
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
