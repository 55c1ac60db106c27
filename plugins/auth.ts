import { createHmac, randomBytes } from 'node:crypto'
import jwt from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { DeviceRow } from '../db/devices.js'
import { parseAuthorization } from '../lib/credentials.js'
import { errors } from '../lib/errors.js'
import { operations } from '../lib/spec.js'

type Claims = { sub: string; typ: 'auth' | 'mfa'; sid?: string; jti?: string; exp?: number }

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Claims
  }
}

/** Who is calling an authenticated operation: set once per request, from its Authorization header. */
type Caller = {
  userId: number
  sessionId: string
  /** When the token expires (ms since the epoch). */
  expiresAt: number
  /**
   * The caller's device (null: none). One rule: `x-device-signed` operations load it with the
   * session in one query; any other operation loads it on the first call. Either way once.
   */
  device(): Promise<DeviceRow | null>
  /** The caller's device, which the path's registration ID must name: 404 `no_device`, 403 `device_changed`. */
  ownDevice(registrationId: number): Promise<DeviceRow>
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: {
      /** Opens a session and returns its token. */
      issueToken(userId: number): Promise<string>
      /** Sets `request.caller` from a live token in the Authorization header, or throws 401. */
      authenticate(request: FastifyRequest): Promise<void>
      /** A short-lived token that is good only for completing a 2FA login. */
      issueEphemeralToken(userId: number): string
      /** The user id, token id and expiry (ms) of a valid ephemeral token, or undefined. */
      verifyEphemeralToken(token: string): { userId: number; tokenId: string; expiresAt: number } | undefined
    }
  }
  interface FastifyRequest {
    /** The authenticated caller; only operations with `security` in openapi.yaml have one. */
    caller: Caller
  }
}

const operationOf = (request: FastifyRequest) =>
  operations.get((request.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? '')

const SESSION_SCHEMES = new Set(['bearer', 'token'])

export default fp(
  async (app) => {
    const { config, db } = app
    // A key of its own, so that a token can never be mistaken for another HMAC the server makes.
    const secret = createHmac('sha256', config.secretKey).update('auth-tokens').digest()
    await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } })
    app.decorateRequest('caller', null as unknown as Caller)

    function claimsOf(token: string, typ: Claims['typ']): Claims | undefined {
      try {
        const claims = app.jwt.verify<Claims>(token)
        return claims.typ === typ ? claims : undefined
      } catch {
        return undefined
      }
    }

    function caller(userId: number, sessionId: string, expiresAt: number, loaded?: DeviceRow | null): Caller {
      let device: Promise<DeviceRow | null> | undefined = loaded === undefined ? undefined : Promise.resolve(loaded)
      const self: Caller = {
        userId,
        sessionId,
        expiresAt,
        device: () => (device ??= db.devices.findByUser(userId).then((d) => d ?? null)),
        async ownDevice(registrationId: number) {
          const own = await self.device()
          if (!own) throw errors.noDevice()
          if (own.registration_id !== registrationId) throw errors.deviceChanged()
          return own
        },
      }
      return self
    }

    app.decorate('auth', {
      async issueToken(userId: number) {
        const sid = randomBytes(18).toString('base64url')
        await db.sessions.create(sid, userId, Date.now() + config.authTokenTtl * 1000)
        return app.jwt.sign({ sub: String(userId), typ: 'auth', sid }, { expiresIn: config.authTokenTtl })
      },

      async authenticate(request: FastifyRequest) {
        const presented = parseAuthorization(request.headers.authorization)
        const claims =
          presented && SESSION_SCHEMES.has(presented.scheme) ? claimsOf(presented.credentials, 'auth') : undefined
        if (!claims?.sid) throw errors.notAuthenticated()
        const eager = operationOf(request)?.deviceSigned === true
        const found = eager
          ? await db.sessions.activeUserWithDevice(claims.sid)
          : { userId: await db.sessions.activeUserId(claims.sid), device: undefined }
        const userId = found?.userId
        if (userId === undefined || String(userId) !== claims.sub) throw errors.notAuthenticated()
        request.caller = caller(userId, claims.sid, (claims.exp ?? 0) * 1000, found?.device)
      },

      issueEphemeralToken(userId: number) {
        // The id lets a completed 2FA login use the token up (db.usedTokens).
        return app.jwt.sign(
          { sub: String(userId), typ: 'mfa', jti: randomBytes(18).toString('base64url') },
          { expiresIn: config.ephemeralTokenTtl },
        )
      },

      verifyEphemeralToken(token: string) {
        const claims = claimsOf(token, 'mfa')
        if (!claims?.jti || !claims.exp) return undefined
        return { userId: Number(claims.sub), tokenId: claims.jti, expiresAt: claims.exp * 1000 }
      },
    })
  },
  { name: 'auth', dependencies: ['config', 'db'] },
)
