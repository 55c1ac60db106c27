import type { Knex } from 'knex'
import type { SecretBox } from '../lib/secret-box.js'
import { authFailuresRepository, usedTokensRepository } from './auth-failures.js'
import { devicesRepository } from './devices.js'
import { keysRepository } from './keys.js'
import { messagesRepository } from './messages.js'
import { mfaRepository } from './mfa.js'
import { sessionsRepository } from './sessions.js'
import { usersRepository } from './users.js'

export function createRepositories(knex: Knex, box: SecretBox) {
  return {
    knex,
    users: usersRepository(knex),
    sessions: sessionsRepository(knex),
    mfa: mfaRepository(knex, box),
    devices: devicesRepository(knex),
    keys: keysRepository(knex),
    messages: messagesRepository(knex),
    authFailures: authFailuresRepository(knex),
    usedTokens: usedTokensRepository(knex),
  }
}

export type Repositories = ReturnType<typeof createRepositories>
