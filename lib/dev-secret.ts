import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/** Where a development server keeps its state: the SQLite file's directory, else ./data. */
export function dataDirectory(databaseUrl: string): string {
  const sqliteFile = !/^postgres(ql)?:\/\//.test(databaseUrl) && databaseUrl !== ':memory:'
  return resolve(sqliteFile ? dirname(databaseUrl) : './data')
}

/**
 * The SECRET_KEY a development server uses when none is set: made once (32 random bytes, hex) and
 * kept in `<dir>/secret-key`, readable by its owner only, so that tokens, reset links and sealed
 * 2FA secrets survive a restart. Throws when the file holds no usable key.
 */
export function developmentSecretKey(dir: string): { key: string; file: string; created: boolean } {
  const file = join(dir, 'secret-key')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  let created = false
  try {
    // Exclusive: of two processes starting at once, one writes and both read the same key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
    created = true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
  const key = readFileSync(file, 'utf8').trim()
  if (key.length < 32) throw new Error(`${file} holds no usable key (under 32 characters): delete it or set SECRET_KEY`)
  return { key, file, created }
}
