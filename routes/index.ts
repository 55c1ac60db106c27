import type { Handlers } from '../lib/handlers.js'
import { account, accountLegacy } from './account.js'
import { auth } from './auth.js'
import { devices } from './devices.js'
import { health } from './health.js'
import { keys } from './keys.js'
import { messages } from './messages.js'
import { mfa } from './mfa.js'
import { passwordReset } from './password-reset.js'
import { provisioning } from './provisioning.js'
import { users, usersLegacy } from './users.js'
import { websocket } from './websocket.js'

// Every operationId in openapi.yaml needs its handler here, or this does not compile.
export const handlers: Handlers = {
  ...users,
  ...usersLegacy,
  ...account,
  ...accountLegacy,
  ...auth,
  ...passwordReset,
  ...mfa,
  ...devices,
  ...keys,
  ...messages,
  ...health,
  ...websocket,
  ...provisioning,
}
