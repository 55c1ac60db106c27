import type { Knex } from 'knex'
import { devicesRepository } from './devices.js'
import { keysRepository } from './keys.js'
import { messagesRepository } from './messages.js'
import { mfaRepository } from './mfa.js'
import { sessionsRepository } from './sessions.js'
import { usersRepository } from './users.js'

export function createRepositories(knex: Knex) {
  return {
    knex,
    users: usersRepository(knex),
    sessions: sessionsRepository(knex),
    mfa: mfaRepository(knex),
    devices: devicesRepository(knex),
    keys: keysRepository(knex),
    messages: messagesRepository(knex),
  }
}

export type Repositories = ReturnType<typeof createRepositories>
