import { createHash } from 'node:crypto'
import { hash, verify } from '@node-rs/bcrypt'

// bcrypt reads only the first 72 bytes; pre-hashing lets every character of a long passphrase count.
const prehash = (password: string) => createHash('sha256').update(password, 'utf8').digest('base64')

export function hashPassword(password: string, cost: number): Promise<string> {
  return hash(prehash(password), cost)
}

const dummyHashes = new Map<number, Promise<string>>()

/**
 * Checks a password against a stored hash. Without one (unknown email) it still runs a full
 * bcrypt check against a dummy hash of the same cost, so the answer takes the same time.
 */
export async function verifyPassword(password: string, storedHash: string | undefined, cost: number): Promise<boolean> {
  if (storedHash) return verify(prehash(password), storedHash)
  let dummy = dummyHashes.get(cost)
  if (!dummy) {
    dummy = hash('dummy password for timing', cost)
    dummyHashes.set(cost, dummy)
  }
  await verify(prehash(password), await dummy)
  return false
}
