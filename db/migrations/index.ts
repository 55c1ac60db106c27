import type { Knex } from 'knex'
import * as initial from './0001_initial.js'
import * as pqPreKeys from './0002_pq_prekeys.js'
import * as hardening from './0003_hardening.js'
import * as queueCounter from './0004_queue_counter.js'
import * as multiDevice from './0005_multi_device.js'
import * as prekeyClaims from './0007_prekey_claims.js'
import * as accountSurface from './0006_account_surface.js'

// Migrations are listed here, not discovered on disk, so they work the same from .ts and compiled .js.
const migrations: Record<string, Knex.Migration> = {
  '0001_initial': initial,
  '0002_pq_prekeys': pqPreKeys,
  '0003_hardening': hardening,
  '0004_queue_counter': queueCounter,
  '0005_multi_device': multiDevice,
  '0006_account_surface': accountSurface,
  '0007_prekey_claims': prekeyClaims,
}

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
}
