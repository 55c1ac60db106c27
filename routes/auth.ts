import type { FastifyInstance } from 'fastify'
import { errors } from '../lib/errors.js'
import { verifyPassword } from '../lib/passwords.js'
import { normalizeCode } from '../lib/mfa-codes.js'
import type { Handlers } from '../lib/handlers.js'

/**
 * A token for the account, bound to its device number `deviceId` when one is given: 404 `no_device`
 * when the account has no such device (asked only once the credentials were right).
 */
async function issueBound(app: FastifyInstance, userId: number, deviceId: number | undefined) {
  if (deviceId === undefined) return app.auth.issueToken(userId)
  const device = (await app.db.devices.listByUser(userId)).find((d) => d.device_id === deviceId)
  if (!device) throw errors.noDevice()
  return app.auth.issueToken(userId, device.id)
}

export const auth = {
  async login(request) {
    const { db, config, mfa } = request.server
    const user = await db.users.findByEmail(request.body.email)
    // verifyPassword runs a full bcrypt check even for an unknown email, so both answers take as
    // long; a locked account is checked too and answers like a wrong password.
    const ok = await verifyPassword(request.body.password, user?.password_hash, config.bcryptCost)
    const accepted = user !== undefined && (await request.server.lockout.guard('login', user.id, async () => ok))
    if (!user || !accepted) throw errors.invalidCredentials()
    // Said only to whoever knows the password: anyone else learns nothing about the account.
    if (!user.is_active) throw errors.inactiveAccount()
    const { deviceId } = request.body
    const methods = await db.mfa.active(user.id)
    if (methods.length === 0)
      return { status: 200, body: { auth_token: await issueBound(request.server, user.id, deviceId) } }
    const primary = methods.find((m) => m.is_primary) ?? methods[0]
    if (primary.name === 'email') await mfa.sendEmailCode(primary, user.email)
    return {
      status: 200,
      body: { ephemeral_token: request.server.auth.issueEphemeralToken(user.id, deviceId), method: primary.name },
    }
  },

  async loginCode(request) {
    const { db, mfa, lockout } = request.server
    const token = request.server.auth.verifyEphemeralToken(request.body.ephemeral_token)
    const methods = token === undefined ? [] : await db.mfa.active(token.userId)
    if (token === undefined || methods.length === 0) throw errors.invalidEphemeralToken()
    const { userId } = token
    // One login per ephemeral token: claimed before the code is looked at, so a used token burns
    // no code; given back when the code is wrong, so the user can try again with it.
    if (!(await db.usedTokens.use(token.tokenId, token.expiresAt))) throw errors.invalidEphemeralToken()
    const code = normalizeCode(request.body.code)
    const accepted = await lockout.guard('mfa', userId, async () => {
      for (const method of methods) if (await mfa.consumeCode(method, code)) return true
      return db.mfa.claimBackupCode(userId, mfa.hashCode(code))
    })
    if (!accepted) {
      await db.usedTokens.release(token.tokenId)
      throw errors.invalidCode()
    }
    const deviceId = request.body.deviceId ?? token.deviceId
    return { status: 200, body: { auth_token: await issueBound(request.server, userId, deviceId) } }
  },

  async logout(request) {
    await request.server.db.sessions.delete(request.caller.sessionId)
    // Sockets opened with this token, on any instance, close now.
    await request.server.bus.publish({ type: 'account', userId: request.caller.userId })
    return { status: 204 }
  },
} satisfies Partial<Handlers>
