import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import knex from 'knex'
import { createKnex } from '../../db/connection.js'
import type { Database } from './options.js'

export type FreshDatabase = {
  url: string
  drop(): Promise<void>
  /** A copy of the database as it is now, made while no server uses it. */
  clone(): Promise<FreshDatabase>
}

const suffix = () => randomBytes(4).toString('hex')

/** An empty database of the engine: a SQLite file in `dir`, or a new PostgreSQL database made through `adminUrl`. */
export async function freshDatabase(engine: Database, dir: string, adminUrl: string): Promise<FreshDatabase> {
  return engine === 'sqlite' ? sqliteFile(join(dir, `bench-${suffix()}.sqlite`)) : postgresDatabase(adminUrl)
}

function sqliteFile(file: string, from?: string): FreshDatabase {
  // The WAL and shared-memory files go with the main file (a server that closed cleanly left none).
  if (from) for (const s of ['', '-wal', '-shm']) if (existsSync(from + s)) copyFileSync(from + s, file + s)
  return {
    url: file,
    drop: async () => {
      for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true })
    },
    clone: async () => sqliteFile(file.replace(/\.sqlite$/, `-${suffix()}.sqlite`), file),
  }
}

async function postgresDatabase(adminUrl: string, template?: string): Promise<FreshDatabase> {
  const name = `bench_${Date.now().toString(36)}_${suffix()}`
  const admin = () => knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  const a = admin()
  try {
    // A template must have no other connections: the caller clones while no server runs.
    if (template) await a.raw('CREATE DATABASE ?? TEMPLATE ??', [name, template])
    else await a.raw('CREATE DATABASE ??', [name])
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
    clone: () => postgresDatabase(adminUrl, name),
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

/**
 * Takes the long-queue devices' queues back to what the bulk load left (deletes the messages a
 * run sent them, all numbered after `lastLoadedId`), straight in the database while no run goes on.
 */
export async function resetLongQueues(url: string, deviceIds: number[], lastLoadedId: number): Promise<number> {
  const db = createKnex(url)
  try {
    return await db('messages').whereIn('recipient_device_id', deviceIds).andWhere('id', '>', lastLoadedId).delete()
  } finally {
    await db.destroy()
  }
}
