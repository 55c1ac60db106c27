import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import knex from 'knex'
import { createKnex } from '../../db/connection.js'
import type { Database } from './options.js'

export type FreshDatabase = { url: string; drop(): Promise<void> }

/** An empty database of the engine: a SQLite file in `dir`, or a new PostgreSQL database made through `adminUrl`. */
export async function freshDatabase(engine: Database, dir: string, adminUrl: string): Promise<FreshDatabase> {
  if (engine === 'sqlite') {
    const file = join(dir, `bench-${randomBytes(4).toString('hex')}.sqlite`)
    return { url: file, drop: async () => ['', '-wal', '-shm'].forEach((s) => rmSync(file + s, { force: true })) }
  }
  const name = `bench_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = () => knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  const a = admin()
  try {
    await a.raw('CREATE DATABASE ??', [name])
  } finally {
    await a.destroy()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const b = admin()
      try {
        await b.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name])
      } finally {
        await b.destroy()
      }
    },
  }
}

/**
 * Empties the queues of the accounts whose email starts with `prefix`, straight in the database
 * (no server runs then): each send run starts from the same, empty queues.
 */
export async function emptyQueues(url: string, prefix: string): Promise<number> {
  const db = createKnex(url)
  try {
    const devices = db('devices')
      .join('users', 'users.id', 'devices.user_id')
      .where('users.email', 'like', `${prefix}-%`)
      .select('devices.id')
    return await db('messages').whereIn('recipient_device_id', devices).delete()
  } finally {
    await db.destroy()
  }
}
