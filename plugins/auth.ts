import { createHmac, randomBytes } from 'node:crypto'
import jwt from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { DeviceRow } from '../db/devices.js'
import type { ActiveSession } from '../db/sessions.js'
import { parseAuthorization } from '../lib/credentials.js'
import { errors } from '../lib/errors.js'

type Claims = { sub: string; typ: 'auth' | 'mfa'; sid?: string; jti?: string; exp?: number; did?: number }

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Claims
  }
}

/** Who is calling an authenticated operation: set once per request, from its Authorization header. */
type Caller = {
  userId: number
  /** The account's email now. */
  email: string
  sessionId: string
  /** When the token expires (ms since the epoch). */
  expiresAt: number
  /** The device (row key) the token is bound to: it acts for that device only. Null: unbound. */
  boundDeviceId: number | null
  /** The account's devices by number, as read with the session (one statement for both). */
  devices(): Promise<DeviceRow[]>
  /**
   * The device this request acts for, or null: the bound one; else the one the path's registration
   * ID names; else the account's only device.
   */
  device(): Promise<DeviceRow | null>
  /**
   * The device the path's registration ID names, which a bound token's device must be: 404
   * `no_device` (none at all), 403 `device_changed`.
   */
  ownDevice(registrationId: number): Promise<DeviceRow>
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: {
      /** Opens a session (bound to the device with that row key, if given) and returns its token. */
      issueToken(userId: number, deviceId?: number | null): Promise<string>
      /** Sets `request.caller` from a live token in the Authorization header, or throws 401. */
      authenticate(request: FastifyRequest): Promise<void>
      /** A short-lived token that is good only for completing a 2FA login (for device number `deviceId`, if given). */
      issueEphemeralToken(userId: number, deviceId?: number): string
      /** The user id, token id, expiry (ms) and device number asked for at login, of a valid ephemeral token. */
      verifyEphemeralToken(
        token: string,
      ): { userId: number; tokenId: string; expiresAt: number; deviceId?: number } | undefined
    }
  }
  interface FastifyRequest {
    /** The authenticated caller; only operations with `security` in openapi.yaml have one. */
    caller: Caller
  }
}

const SESSION_SCHEMES = new Set(['bearer', 'token'])

/** Three unpadded base64url segments, each exactly as its bytes encode back (no stray bits, no other alphabet). */
function isCanonicalJws(token: string): boolean {
  const segments = token.split('.')
  return (
    segments.length === 3 &&
    segments.every(
      (s) => s !== '' && /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').toString('base64url') === s,
    )
  )
}

export default fp(
  async (app) => {
    const { config, db } = app
    // A key of its own, so that a token can never be mistaken for another HMAC the server makes.
    const secret = createHmac('sha256', config.secretKey).update('auth-tokens').digest()
    await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } })
    app.decorateRequest('caller', null as unknown as Caller)

    function claimsOf(token: string, typ: Claims['typ']): Claims | undefined {
      // One spelling per token: base64url leaves spare bits in a segment's last character, which
      // decoders ignore, so `...Q` and `...R` could carry the same signature. Only the canonical one passes.
      if (!isCanonicalJws(token)) return undefined
      try {
        const claims = app.jwt.verify<Claims>(token)
        return claims.typ === typ ? claims : undefined
      } catch {
        return undefined
      }
    }

    function caller(
      request: FastifyRequest,
      session: ActiveSession & { devices: DeviceRow[] },
      sessionId: string,
      expiresAt: number,
    ): Caller {
      const { userId, boundDeviceId } = session
      const devices = Promise.resolve(session.devices)
      // A device the request acts for was seen today (one write per device per day at most).
      const seen = async (device: DeviceRow) => {
        await db.devices.touch(device)
        return device
      }
      const self: Caller = {
        userId,
        email: session.email,
        sessionId,
        expiresAt,
        boundDeviceId,
        devices: () => devices,
        async device() {
          const all = await self.devices()
          const registrationId = (request.params as { registrationId?: unknown } | undefined)?.registrationId
          const found =
            boundDeviceId !== null
              ? all.find((d) => d.id === boundDeviceId)
              : registrationId !== undefined
                ? all.find((d) => d.registration_id === Number(registrationId))
                : all.length === 1
                  ? all[0]
                  : undefined
          return found ? seen(found) : null
        },
        async ownDevice(registrationId: number) {
          const all = await self.devices()
          if (boundDeviceId !== null) {
            const bound = all.find((d) => d.id === boundDeviceId)
            // Removed since the session was read: the session went with it.
            if (!bound) throw errors.notAuthenticated()
            if (bound.registration_id !== registrationId) throw errors.deviceChanged()
            return seen(bound)
          }
          if (!all.length) throw errors.noDevice()
          const own = all.find((d) => d.registration_id === registrationId)
          if (!own) throw errors.deviceChanged()
          return seen(own)
        },
      }
      return self
    }

    app.decorate('auth', {
      async issueToken(userId: number, deviceId: number | null = null) {
        const sid = randomBytes(18).toString('base64url')
        await db.sessions.create(sid, userId, Date.now() + config.authTokenTtl * 1000, deviceId)
        return app.jwt.sign({ sub: String(userId), typ: 'auth', sid }, { expiresIn: config.authTokenTtl })
      },

      async authenticate(request: FastifyRequest) {
        const presented = parseAuthorization(request.headers.authorization)
        const claims =
          presented && SESSION_SCHEMES.has(presented.scheme) ? claimsOf(presented.credentials, 'auth') : undefined
        if (!claims?.sid) throw errors.notAuthenticated()
        // With the account's devices, always: most operations act for a device, and a second
        // statement for them cost more than the join (npx tsx scripts/bench/hot-statements.ts).
        const found = await db.sessions.activeWithDevices(claims.sid)
        if (found === undefined || String(found.userId) !== claims.sub) throw errors.notAuthenticated()
        request.caller = caller(request, found, claims.sid, (claims.exp ?? 0) * 1000)
      },

      issueEphemeralToken(userId: number, deviceId?: number) {
        // The id lets a completed 2FA login use the token up (db.usedTokens).
        return app.jwt.sign(
          {
            sub: String(userId),
            typ: 'mfa',
            jti: randomBytes(18).toString('base64url'),
            ...(deviceId !== undefined && { did: deviceId }),
          },
          { expiresIn: config.ephemeralTokenTtl },
        )
      },

      verifyEphemeralToken(token: string) {
        const claims = claimsOf(token, 'mfa')
        if (!claims?.jti || !claims.exp) return undefined
        return {
          userId: Number(claims.sub),
          tokenId: claims.jti,
          expiresAt: claims.exp * 1000,
          ...(Number.isInteger(claims.did) && { deviceId: claims.did }),
        }
      },
    })
  },
  { name: 'auth', dependencies: ['config', 'db'] },
)
