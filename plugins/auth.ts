import { createHmac, randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import { ApiError } from '../lib/api-error.js'
import { operations } from '../lib/spec.js'

export type Principal = { id: number; sessionId: string }
type Claims = { sub: string; typ: 'auth' | 'mfa'; sid?: string; jti?: string; exp?: number }

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Claims
    user: Principal
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: {
      /** Opens a session and returns its token. */
      issueToken(userId: number): Promise<string>
      /** Sets `request.user` from a live token in the Authorization header, or throws 401. */
      authenticate(request: FastifyRequest): Promise<void>
      /** A short-lived token that is good only for completing a 2FA login. */
      issueEphemeralToken(userId: number): string
      /** The user id, token id and expiry (ms) of a valid ephemeral token, or undefined. */
      verifyEphemeralToken(token: string): { userId: number; tokenId: string; expiresAt: number } | undefined
    }
  }
}

const operationOf = (request: FastifyRequest) =>
  operations.get((request.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? '')

const notAuthenticated = () =>
  new ApiError(401, 'not_authenticated', 'Authentication credentials were not provided or are invalid.')

export default fp(
  async (app) => {
    const { config, db } = app
    // A key of its own, so that a token can never be mistaken for another HMAC the server makes.
    const secret = createHmac('sha256', config.secretKey).update('auth-tokens').digest()
    await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } })

    function claimsOf(token: string, typ: Claims['typ']): Claims | undefined {
      try {
        const claims = app.jwt.verify<Claims>(token)
        return claims.typ === typ ? claims : undefined
      } catch {
        return undefined
      }
    }

    app.decorate('auth', {
      async issueToken(userId: number) {
        const sid = randomBytes(18).toString('base64url')
        await db.sessions.create(sid, userId, Date.now() + config.authTokenTtl * 1000)
        return app.jwt.sign({ sub: String(userId), typ: 'auth', sid }, { expiresIn: config.authTokenTtl })
      },

      async authenticate(request: FastifyRequest) {
        const match = /^(?:Bearer|Token) +([A-Za-z0-9._~+/=-]+) *$/i.exec(request.headers.authorization ?? '')
        const claims = match ? claimsOf(match[1], 'auth') : undefined
        if (!claims?.sid) throw notAuthenticated()
        // Operations that act for a device load it with the session: one query instead of two.
        const withDevice = operationOf(request)?.deviceSigned === true
        const found = withDevice
          ? await db.sessions.activeUserWithDevice(claims.sid)
          : { userId: await db.sessions.activeUserId(claims.sid), device: undefined }
        const userId = found?.userId
        if (userId === undefined || String(userId) !== claims.sub) throw notAuthenticated()
        request.user = { id: userId, sessionId: claims.sid }
        if (withDevice) request.device = found!.device
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
