import type { FastifyRequest } from 'fastify'
import type { UserRow } from '../db/users.js'
import type { FieldError } from '../lib/api-error.js'
import { errors } from '../lib/errors.js'
import type { Handlers, Schemas } from '../lib/handlers.js'
import { assertPasswordAllowed } from '../lib/password-policy.js'
import { hashPassword } from '../lib/passwords.js'

async function currentUser(request: FastifyRequest): Promise<UserRow> {
  const user = await request.server.db.users.findById(request.caller.userId)
  if (!user) throw errors.notAuthenticated()
  return user
}

const userBody = (user: UserRow) => ({ id: user.id, email: user.email })

/** PUT and PATCH: every field is read-only, as in djoser (the email changes through change_username). */
async function updateCurrentUser(request: FastifyRequest, body: Schemas['UserUpdate'] | undefined) {
  const user = await currentUser(request)
  const fields: FieldError[] = []
  if (body?.id !== undefined && body.id !== user.id) fields.push({ field: 'body.id', message: 'is read-only' })
  if (body?.email !== undefined && body.email.toLowerCase() !== user.email)
    fields.push({ field: 'body.email', message: 'is read-only: change it with POST /auth/users/change_username/' })
  if (fields.length) throw errors.invalidData(fields)
  return { status: 200 as const, body: userBody(user) }
}

async function deleteAccount(request: FastifyRequest, currentPassword: string) {
  const { db, lockout } = request.server
  const user = await db.users.findById(request.caller.userId)
  if (!user || !(await lockout.checkPassword(user, currentPassword))) throw errors.invalidPassword()
  await db.users.delete(user.id)
  await request.server.bus.publish({ type: 'account', userId: user.id })
  return { status: 204 as const }
}

/** `/auth/users/{id}/` acts on the caller's own id only; any other is as missing as one that does not exist. */
function requireOwnId(request: FastifyRequest<{ Params: { id: string } }>): void {
  if (request.params.id !== String(request.caller.userId)) throw errors.notFound()
}

export const users = {
  async getMe(request) {
    return { status: 200, body: userBody(await currentUser(request)) }
  },

  async updateMe(request) {
    return updateCurrentUser(request, request.body)
  },

  async patchMe(request) {
    return updateCurrentUser(request, request.body)
  },

  async listUsers(request) {
    return { status: 200, body: [userBody(await currentUser(request))] }
  },

  async getUser(request) {
    requireOwnId(request)
    return { status: 200, body: userBody(await currentUser(request)) }
  },

  async updateUser(request) {
    requireOwnId(request)
    return updateCurrentUser(request, request.body)
  },

  async patchUser(request) {
    requireOwnId(request)
    return updateCurrentUser(request, request.body)
  },

  async deleteUser(request) {
    requireOwnId(request)
    return deleteAccount(request, request.body.currentPassword)
  },

  async deleteMe(request) {
    return deleteAccount(request, request.body.currentPassword)
  },

  async setPassword(request) {
    const { db, config, lockout } = request.server
    const { current_password, new_password } = request.body
    const user = await db.users.findById(request.caller.userId)
    if (!user || !(await lockout.checkPassword(user, current_password))) throw errors.invalidPassword()
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

// djoser 1.7's backward-compatible paths: operations of their own in openapi.yaml, the same handlers.
export const usersLegacy = {
  getMeLegacy: users.getMe,
  updateMeLegacy: users.updateMe,
  deleteMeLegacy: users.deleteMe,
  setPasswordLegacy: users.setPassword,
} satisfies Partial<Handlers>
