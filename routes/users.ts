import { ApiError } from '../lib/api-error.js'
import { isUniqueViolation } from '../db/connection.js'
import { hashPassword, verifyPassword } from '../lib/passwords.js'
import type { Handlers } from '../lib/handlers.js'
import { assertPasswordAllowed } from './common.js'

const wrongPassword = () => new ApiError(400, 'invalid_password', 'The password is wrong.')

export const users = {
  async createUser(request) {
    const { db, config } = request.server
    const { email, password } = request.body
    assertPasswordAllowed(password, email, 'password')
    if (await db.users.findByEmail(email)) throw emailExists()
    try {
      const user = await db.users.create(email, await hashPassword(password, config.bcryptCost))
      return { status: 201, body: { id: user.id, email: user.email } }
    } catch (err) {
      // Two sign-ups for one email at once: the unique index decides.
      if (isUniqueViolation(err)) throw emailExists()
      throw err
    }
  },

  async getMe(request) {
    const user = await request.server.db.users.findById(request.user.id)
    if (!user)
      throw new ApiError(401, 'not_authenticated', 'Authentication credentials were not provided or are invalid.')
    return { status: 200, body: { id: user.id, email: user.email } }
  },

  async deleteMe(request) {
    const { db, config } = request.server
    const user = await db.users.findById(request.user.id)
    if (!user || !(await verifyPassword(request.body.currentPassword, user.password_hash, config.bcryptCost)))
      throw wrongPassword()
    await db.users.delete(user.id)
    await request.server.bus.publish({ type: 'account', userId: user.id })
    return { status: 204 }
  },

  async setPassword(request) {
    const { db, config } = request.server
    const { current_password, new_password } = request.body
    const user = await db.users.findById(request.user.id)
    if (!user || !(await verifyPassword(current_password, user.password_hash, config.bcryptCost))) throw wrongPassword()
    assertPasswordAllowed(new_password, user.email, 'new_password')
    const passwordHash = await hashPassword(new_password, config.bcryptCost)
    await db.knex.transaction(async (trx) => {
      await db.users.setPassword(user.id, passwordHash, trx)
      await db.sessions.deleteAllOf(user.id, request.user.sessionId, trx)
    })
    await request.server.bus.publish({ type: 'account', userId: user.id })
    return { status: 204 }
  },
} satisfies Partial<Handlers>

function emailExists() {
  return new ApiError(400, 'email_exists', 'A user with that email already exists.')
}
