import { isUniqueViolation } from '../db/dialect.js'
import { errors } from '../lib/errors.js'
import type { Handlers } from '../lib/handlers.js'
import { assertPasswordAllowed } from '../lib/password-policy.js'
import { hashPassword, verifyPassword } from '../lib/passwords.js'

export const users = {
  async createUser(request) {
    const { db, config } = request.server
    const { email, password } = request.body
    assertPasswordAllowed(password, email, 'password')
    if (await db.users.findByEmail(email)) throw errors.emailExists()
    try {
      const user = await db.users.create(email, await hashPassword(password, config.bcryptCost))
      return { status: 201, body: { id: user.id, email: user.email } }
    } catch (err) {
      // Two sign-ups for one email at once: the unique index decides.
      if (isUniqueViolation(err)) throw errors.emailExists()
      throw err
    }
  },

  async getMe(request) {
    const user = await request.server.db.users.findById(request.caller.userId)
    if (!user) throw errors.notAuthenticated()
    return { status: 200, body: { id: user.id, email: user.email } }
  },

  async deleteMe(request) {
    const { db, config } = request.server
    const user = await db.users.findById(request.caller.userId)
    if (!user || !(await verifyPassword(request.body.currentPassword, user.password_hash, config.bcryptCost)))
      throw errors.invalidPassword()
    await db.users.delete(user.id)
    await request.server.bus.publish({ type: 'account', userId: user.id })
    return { status: 204 }
  },

  async setPassword(request) {
    const { db, config } = request.server
    const { current_password, new_password } = request.body
    const user = await db.users.findById(request.caller.userId)
    if (!user || !(await verifyPassword(current_password, user.password_hash, config.bcryptCost)))
      throw errors.invalidPassword()
    assertPasswordAllowed(new_password, user.email, 'new_password')
    const passwordHash = await hashPassword(new_password, config.bcryptCost)
    await db.transaction(async (tx) => {
      await tx.users.setPassword(user.id, passwordHash)
      await tx.sessions.deleteAllOf(user.id, request.caller.sessionId)
    })
    await request.server.bus.publish({ type: 'account', userId: user.id })
    return { status: 204 }
  },
} satisfies Partial<Handlers>
